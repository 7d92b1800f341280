"""predict: a roofline model of speculative decoding under batching (SPEC.md capability 9).

- :mod:`.catalog`: hardware and model catalogs (TOML, every number sourced and dated).
- :mod:`.probe`: the ``cpu`` entry, measured on this machine.
- :mod:`.step`: the pure step model (one pass, a spec step, a closed-loop operating point).
- :mod:`.curves`: predicted Off/spec curves, where spec stops paying, best g, c_eff.
- :mod:`.calibrate` / :mod:`.profile`: fit t0, η_bw, η_f to measured runs and reuse them.
"""

from specscope.predict.acceptance import AcceptanceCurve, acceptance_curve
from specscope.predict.calibrate import CalibrationResult, ValidationResult, calibrate, validate
from specscope.predict.catalog import Catalog, HardwareSpec, ModelSpec, SourceRef, load_catalog
from specscope.predict.curves import Prediction, PredictRequest, predict
from specscope.predict.profile import (
    CalibratedProfile,
    default_profile_path,
    load_profile,
    save_profile,
)
from specscope.predict.step import DEFAULT_EFFICIENCY, Efficiency

__all__ = [
    "DEFAULT_EFFICIENCY",
    "AcceptanceCurve",
    "CalibratedProfile",
    "CalibrationResult",
    "Catalog",
    "Efficiency",
    "HardwareSpec",
    "ModelSpec",
    "PredictRequest",
    "Prediction",
    "SourceRef",
    "ValidationResult",
    "acceptance_curve",
    "calibrate",
    "default_profile_path",
    "load_catalog",
    "load_profile",
    "predict",
    "save_profile",
    "validate",
]
