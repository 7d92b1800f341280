"""predict: a roofline model of speculative decoding under batching (SPEC.md capability 9).

Models and math only: no files, no store, no probe. Catalog files and the measured ``cpu`` entry
are read by :mod:`specscope.catalog`; profile files and stored runs by :mod:`specscope.calibration`.

- :mod:`.specs`: hardware and model specs (types, every number sourced and dated).
- :mod:`.roofline`: the cost of one pass (bytes, FLOPs, overheads, communication).
- :mod:`.step`: a spec step, the sanity gates, a closed-loop operating point.
- :mod:`.deployment`: one hardware × model × precision × GPU count as a step model.
- :mod:`.request` / :mod:`.curves` / :mod:`.prediction`: what to predict, the predicted Off and
  spec curves and what they say (where spec stops paying, best g, c_eff), the answer.
- :mod:`.observations` / :mod:`.calibrate` / :mod:`.profile`: measured points as step times,
  the fit of t0, η_bw, η_f to them, and the resulting profile.
"""

from specscope.predict.acceptance import AcceptanceCurve, acceptance_curve
from specscope.predict.calibrate import CalibrationResult, ValidationResult, calibrate, validate
from specscope.predict.curves import predict
from specscope.predict.prediction import Prediction
from specscope.predict.profile import CalibratedProfile
from specscope.predict.request import PredictRequest
from specscope.predict.roofline import DEFAULT_EFFICIENCY, Efficiency
from specscope.predict.specs import HardwareSpec, ModelSpec, SourceRef, SpecLookup

__all__ = [
    "DEFAULT_EFFICIENCY",
    "AcceptanceCurve",
    "CalibratedProfile",
    "CalibrationResult",
    "Efficiency",
    "HardwareSpec",
    "ModelSpec",
    "PredictRequest",
    "Prediction",
    "SourceRef",
    "SpecLookup",
    "ValidationResult",
    "acceptance_curve",
    "calibrate",
    "predict",
    "validate",
]
