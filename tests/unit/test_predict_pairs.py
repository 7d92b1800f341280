"""``specscope predict`` answers for every hardware × model pair of the shipped catalog.

The library call the CLI makes (``--spec mtp --gamma 1,2,3 --acceptance-length 1.9,2.7,3.4``,
``--n-gpus`` left to pick the fewest GPUs that fit) at BF16. A pair that does not fit at BF16 in
the most GPUs picked automatically must say so in one line and name a fix; the precision it
names must then answer. The ``cpu`` entry is pinned to a fixed probe result so the test does not
depend on this machine.
"""

from __future__ import annotations

import functools
import math
import re

import pytest

from specscope.catalog import Catalog, load_catalog
from specscope.catalog.probe import ProbeResult, hardware_from_probe
from specscope.errors import UserError
from specscope.predict import Prediction, PredictRequest, acceptance_curve, predict
from specscope.predict.deployment import MAX_AUTO_GPUS

GAMMAS = [1, 2, 3]
AL = [1.9, 2.7, 3.4]
PROBE = ProbeResult(
    cpu_name="test CPU",
    n_cpus=2,
    numpy_version="2",
    copy_gb_s=34.0,
    matmul_gflops=212.0,
    memory_gb=32.0,
    measured_at="2026-11-22T00:00:00+00:00",
    duration_s=0.4,
)


@functools.cache
def catalog() -> Catalog:
    cat = load_catalog()
    return cat.model_copy(update={"hardware": {**cat.hardware, "cpu": hardware_from_probe(PROBE)}})


def pairs() -> list[tuple[str, str]]:
    cat = catalog()
    return [(hw, model) for hw in sorted(cat.hardware) for model in sorted(cat.models)]


def request(hardware: str, model: str, precision: str) -> PredictRequest:
    return PredictRequest(
        hardware=hardware,
        model=model,
        precision=precision,
        spec_method="mtp",
        gammas=GAMMAS,
        acceptance=acceptance_curve(GAMMAS, acceptance_length=AL),
        isl=1024,
        osl=1024,
        n_gpus=None,
        max_concurrency=32,  # keeps 108 pairs fast; the grid is 1, 2, 4, …, 32
    )


def check_answer(p: Prediction) -> None:
    assert p.label == "predicted"
    assert [c.draft_depth for c in p.curves] == [0, *GAMMAS]
    assert all(c.label.endswith("(predicted)") for c in p.curves)
    assert [c.acceptance_length for c in p.curves] == [1.0, *AL]
    assert 1 <= p.n_gpus <= MAX_AUTO_GPUS and p.n_gpus & (p.n_gpus - 1) == 0  # a power of two
    assert p.sources and all(ref.urls and ref.date for ref in p.sources)
    assert any(w.startswith("uncalibrated") for w in p.warnings)
    for curve in p.curves:
        assert curve.points[0].concurrency == 1
        for cp in curve.points:
            assert math.isfinite(cp.throughput_per_gpu) and cp.throughput_per_gpu > 0
            assert math.isfinite(cp.interactivity) and cp.interactivity > 0
            # free-drafting bound: spec never beats AL × off at the same concurrency
            assert 0 < cp.speedup_vs_off <= curve.acceptance_length + 1e-9
    assert all(pt.provenance.source == "predicted" for pt in p.points)
    assert len(p.points) == sum(len(c.points) for c in p.curves)


@pytest.mark.parametrize(("hardware", "model"), pairs(), ids=lambda v: str(v))
def test_every_catalog_pair_answers(hardware: str, model: str) -> None:
    try:
        prediction = predict(request(hardware, model, "bf16"), catalog=catalog())
    except UserError as exc:
        message = str(exc)
        assert "\n" not in message
        assert message.startswith(f"{model} at bf16 needs ")
        assert f"{MAX_AUTO_GPUS} × {hardware} (the most --n-gpus tries by itself)" in message
        fix = re.search(r"--precision (\w+)", message)
        assert fix is not None, message  # every catalog pair fits 64 devices at FP8 or FP4
        prediction = predict(request(hardware, model, fix.group(1)), catalog=catalog())
        assert prediction.precision == fix.group(1)
    check_answer(prediction)


def test_the_pairs_that_need_a_lower_precision_are_the_big_ones_on_small_devices() -> None:
    # DeepSeek-V4-Pro BF16 = 3254 GB; 64 × RTX 3090 hold 64 × 24 × 0.9 = 1382 GB; 256 would do
    # (5530 GB), FP8 (1627 GB) still does not fit 64, FP4 (814 GB) does.
    needs_lower: dict[tuple[str, str], str] = {}
    for hardware, model in pairs():
        try:
            predict(request(hardware, model, "bf16"), catalog=catalog())
        except UserError as exc:
            fix = re.search(r"--precision (\w+)", str(exc))
            needs_lower[(hardware, model)] = fix.group(1) if fix else "none"
    assert needs_lower == {
        ("cpu", "deepseek-v4-pro"): "fp8",  # 3254 GB vs 64 × 32 × 0.9 = 1843 GB; FP8 1627 fits
        ("rtx3090", "deepseek-v4-pro"): "fp4",
        ("rtx3090", "glm-5"): "fp8",  # 1510 GB vs 1382 GB; FP8 755 GB fits
    }
    with pytest.raises(UserError, match=r"pass --n-gpus 256 or --precision fp4$"):
        predict(request("rtx3090", "deepseek-v4-pro", "bf16"), catalog=catalog())


def test_an_explicit_gpu_count_that_is_too_small_names_the_count_that_fits() -> None:
    # Llama-3.1-70B BF16 = 141 GB (+ an assumed one-layer MTP head) on one 24 GB RTX 3090:
    # 8 × 21.6 GB = 173 GB is the smallest power of two; FP8 (71 GB) and FP4 (35 GB) do not fit 1
    req = request("rtx3090", "llama-3.1-70b", "bf16").model_copy(update={"n_gpus": 1})
    with pytest.raises(UserError, match=r"but 1 × rtx3090 holds 22 GB usable; pass --n-gpus 8$"):
        predict(req, catalog=catalog())
