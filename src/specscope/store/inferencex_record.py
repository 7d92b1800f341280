"""One InferenceX aggregated record (an ``agg_*.json`` object) → one Point.

Latencies arrive in seconds already. Every key without a field of its own is kept in
``provenance.extra``; raw identity values that were normalised (``hw``, ``framework``...) are
kept there too. Multi-node records (``is_multinode``) carry no ``tp``: their GPUs are the
prefill plus the decode GPUs (``num_prefill_gpu`` + ``num_decode_gpu``), as the runner divides
by them. A record that cannot become a Point raises :class:`InferenceXRecordError` with one line
naming the key and the problem.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from specscope.hardware_keys import inferencex_hardware_keys
from specscope.schema import OFF, LatencyStats, Point, PointConfig, Provenance
from specscope.store.inferencex_keys import (
    InferenceXRecordError,
    engine_key,
    hardware_key,
    model_key,
    precision_key,
    spec_method_key,
)

_SEQUENCE_IN_NAME = re.compile(r"(?:^|[_\-.])(\d+)k(\d+)k(?:[_\-.]|$)", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# Value checks: each failure is one line naming the key
# --------------------------------------------------------------------------------------------


def brief(value: object) -> str:
    """A JSON value in at most 40 characters, for one-line messages."""
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(obj: dict[str, Any], key: str, *, required: bool = False) -> float | None:
    """A finite, non-negative JSON number (int or float, not a string or bool)."""
    if obj.get(key) is None:
        if required:
            raise InferenceXRecordError(f"required key '{key}' is missing")
        return None
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InferenceXRecordError(f"'{key}' must be a number, got {brief(value)}")
    try:
        number = float(value)
    except OverflowError:  # a JSON integer beyond any double
        number = math.inf
    if not math.isfinite(number):
        raise InferenceXRecordError(f"'{key}' must be a finite number, got {brief(value)}")
    if number < 0:
        raise InferenceXRecordError(f"'{key}' must not be negative, got {brief(value)}")
    return number


_MAX_INT = 2**31 - 1
"""Whole numbers are stored as 32-bit integers."""


def _integer(obj: dict[str, Any], key: str, *, required: bool = False) -> int | None:
    number = _number(obj, key, required=required)
    if number is None:
        return None
    if not number.is_integer():
        raise InferenceXRecordError(f"'{key}' must be a whole number, got {brief(obj[key])}")
    if number > _MAX_INT:
        raise InferenceXRecordError(f"'{key}' is too large, got {brief(obj[key])}")
    return int(number)


def _text(obj: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InferenceXRecordError(f"required key '{key}' is missing")
        return None
    if not isinstance(value, str):
        raise InferenceXRecordError(f"'{key}' must be text, got {brief(value)}")
    return value.strip()


def _flag(obj: dict[str, Any], key: str) -> bool | None:
    """true/false as JSON booleans, ``"true"``/``"false"`` text or 1/0; None when absent."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise InferenceXRecordError(f"'{key}' must be true or false, got {brief(value)}")


# --------------------------------------------------------------------------------------------
# One record → one Point
# --------------------------------------------------------------------------------------------

_STATS = ("mean", "median", "p90", "p99")
_LATENCY_KEYS = tuple(f"{s}_{m}" for m in ("ttft", "tpot", "itl", "e2el") for s in _STATS)

# Keys whose value is stored 1:1 in a Point field; every other key goes to provenance.extra.
_MAPPED_KEYS = frozenset(
    {
        "conc",
        "isl",
        "osl",
        "tp",
        "pp",
        "ep",
        "dp_attention",
        "tput_per_gpu",
        "output_tput_per_gpu",
        "input_tput_per_gpu",
        "median_intvty",
        "date",
        *_LATENCY_KEYS,
    }
)

# Identity of one benchmark configuration (InferenceX RESULT_FILENAME fields, minus conc).
_IDENTITY_KEYS = (
    "hw",
    "infmax_model_prefix",
    "model",
    "framework",
    "precision",
    "spec_decoding",
    "disagg",
    "is_multinode",
    "isl",
    "osl",
    "tp",
    "pp",
    "dcp_size",
    "pcp_size",
    "ep",
    "dp_attention",
    "prefill_tp",
    "prefill_ep",
    "prefill_dp_attention",
    "prefill_num_workers",
    "decode_tp",
    "decode_ep",
    "decode_dp_attention",
    "decode_num_workers",
    "num_prefill_gpu",
    "num_decode_gpu",
    "num_gpus",
    "recipe_fingerprint",
    "image",
    "date",
)


def run_id_for(obj: dict[str, Any]) -> str:
    """A run id from the record's configuration identity and its date/image (not its numbers).

    The points of one sweep (same config, different ``conc``) share it; the same record imported
    twice gets the same id, hence the same ``point_id``. Two records with this identity and
    ``conc`` but other results are two repeats of one configuration: the import keeps the second
    as the next repeat (the results are part of a stored point's identity there).
    """
    identity = {key: obj.get(key) for key in _IDENTITY_KEYS}
    blob = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return "ix-" + hashlib.sha256(blob.encode()).hexdigest()[:16]


def _lengths(obj: dict[str, Any], source_file: str) -> tuple[int, int]:
    isl = _integer(obj, "isl")
    osl = _integer(obj, "osl")
    if isl is not None and osl is not None:
        return isl, osl
    # Old artifacts carry the sequence only in their name (``..._1k1k_...``).
    match = _SEQUENCE_IN_NAME.search(Path(source_file).name)
    if match is None:
        missing = "isl" if isl is None else "osl"
        raise InferenceXRecordError(
            f"required key '{missing}' is missing (and the file name has no '1k1k'-style sequence)"
        )
    return (
        isl if isl is not None else int(match.group(1)) * 1024,
        osl if osl is not None else int(match.group(2)) * 1024,
    )


def _phase_gpus(obj: dict[str, Any], phase: str) -> int | None:
    """GPUs of one phase (``prefill`` or ``decode``) of a multi-node record: ``num_<phase>_gpu``,
    or else workers × TP × PP × PCP of that phase (how the runner's configs size it); None when
    neither is given."""
    count = _integer(obj, f"num_{phase}_gpu")
    if count is not None:
        return count
    workers = _integer(obj, f"{phase}_num_workers")
    tp = _integer(obj, f"{phase}_tp")
    if workers is None or tp is None:
        return None
    pp = _integer(obj, f"{phase}_pp") or 1
    pcp = _integer(obj, f"{phase}_pcp_size") or 1
    return workers * tp * pp * pcp


def _is_multinode(obj: dict[str, Any], disaggregated: bool) -> bool:
    """Disaggregated, flagged ``is_multinode``, or without ``tp`` but with prefill GPU keys."""
    if disaggregated or _flag(obj, "is_multinode"):
        return True
    return obj.get("tp") is None and any(
        obj.get(key) is not None for key in ("num_prefill_gpu", "prefill_tp")
    )


def _gpus(obj: dict[str, Any], disaggregated: bool) -> tuple[int, int | None]:
    """(n_gpus, n_decode_gpus) as InferenceX divides throughput by them.

    Single node: N = tp·pp·pcp (DCP reuses the TP GPUs), or ``num_gpus`` when given. Multi-node
    (disaggregated or not), following the runner's ``utils/process_result.py``
    (SemiAnalysisAI/InferenceX @843c625, the ``is_multinode`` branch): total and input over
    prefill + decode GPUs (P + D), output over the decode GPUs D, or over all of them when D = 0
    (a multi-node aggregated deployment reports all its GPUs as prefill).
    """
    if _is_multinode(obj, disaggregated):
        kind = "disaggregated" if disaggregated else "multi-node"
        counts = {phase: _phase_gpus(obj, phase) for phase in ("prefill", "decode")}
        for phase, count in counts.items():
            if count is None:
                raise InferenceXRecordError(
                    f"{kind} record without 'num_{phase}_gpu' (nor '{phase}_num_workers' and "
                    f"'{phase}_tp' to count its GPUs)"
                )
        prefill, decode = counts["prefill"] or 0, counts["decode"] or 0
        if prefill + decode == 0:
            raise InferenceXRecordError(
                f"{kind} record with no GPUs ('num_prefill_gpu' + 'num_decode_gpu' = 0)"
            )
        return prefill + decode, decode or None
    explicit = _integer(obj, "num_gpus")
    if explicit is not None:
        return explicit, None
    tp = _integer(obj, "tp")
    if tp is None:
        raise InferenceXRecordError("required key 'tp' is missing (needed for the GPU count)")
    pp = _integer(obj, "pp") or 1
    pcp = _integer(obj, "pcp_size") or 1
    return tp * pp * pcp, None


def _topology_prefix(obj: dict[str, Any]) -> str:
    """Where a record's TP/PP/EP/DP-attention live: ``""`` on a single node; on several nodes
    the decode phase (``decode_``), or the prefill phase when there are no decode GPUs
    (the runner then writes ``decode_tp`` 0)."""
    if "tp" in obj:
        return ""
    if "prefill_tp" not in obj:
        return "decode_"
    decode_tp = obj.get("decode_tp")
    if decode_tp is None:
        return "prefill_"
    if isinstance(decode_tp, bool) or not isinstance(decode_tp, int | float):
        return "decode_"  # malformed: reading it says so in one line
    return "decode_" if decode_tp > 0 else "prefill_"


def _interactivity(obj: dict[str, Any]) -> float:
    intvty = _number(obj, "median_intvty")
    if intvty is not None:
        if intvty <= 0:
            raise InferenceXRecordError(f"'median_intvty' must be positive, got {intvty!r}")
        return intvty
    tpot = _number(obj, "median_tpot")
    if tpot is None:
        raise InferenceXRecordError("has neither 'median_intvty' nor 'median_tpot'")
    if tpot <= 0:
        raise InferenceXRecordError(f"'median_tpot' must be positive, got {tpot!r}")
    return 1.0 / tpot


def _latency(obj: dict[str, Any], metric: str) -> LatencyStats:
    values = [_number(obj, f"{stat}_{metric}") for stat in _STATS]
    if all(v is None for v in values):
        return LatencyStats()
    return LatencyStats(mean_s=values[0], median_s=values[1], p90_s=values[2], p99_s=values[3])


def _power(obj: dict[str, Any], n_gpus: int) -> float | None:
    """Measured power per GPU when the record says its power telemetry is valid.

    Power is best effort in InferenceX, so a malformed power key voids the power reading
    (the keys stay in ``extra``) rather than the whole record.
    """
    try:
        if not _flag(obj, "power_valid"):
            return None
        per_gpu = _number(obj, "avg_power_w")
        if per_gpu is not None:
            return per_gpu
        total = _number(obj, "avg_total_gpu_power_w")
    except InferenceXRecordError:
        return None
    return None if total is None else total / n_gpus


def parse_record(obj: object, source_file: str, index: int | None = None) -> Point:
    """One InferenceX aggregated record → one Point; raises InferenceXRecordError when unusable.

    ``index`` is the record's position in a JSON array (None for a single-object file); it only
    helps callers describe where a record came from.
    """
    if not isinstance(obj, dict):
        raise InferenceXRecordError(f"a record must be a JSON object, got {brief(obj)}")
    outcome = obj.get("benchmark_outcome")
    if isinstance(outcome, dict) and outcome.get("status") == "failed":
        raise InferenceXRecordError("the benchmark failed (benchmark_outcome.status = 'failed')")
    if obj.get("num_requests_successful") == 0:
        raise InferenceXRecordError("no request succeeded (num_requests_successful = 0)")

    runner = _text(obj, "hw", required=True)
    assert runner is not None
    hardware = hardware_key(runner)
    if hardware is None:
        raise InferenceXRecordError(
            f"unknown hardware {runner!r}; known: {', '.join(sorted(inferencex_hardware_keys()))}"
        )
    framework = _text(obj, "framework", required=True)
    assert framework is not None
    engine, disaggregated = engine_key(framework, _flag(obj, "disagg"))
    model = model_key(_text(obj, "infmax_model_prefix"), _text(obj, "model"))
    precision_raw = _text(obj, "precision")
    precision = precision_key(precision_raw) if precision_raw else "unknown"
    spec_raw = obj.get("spec_decoding")
    if "spec_decoding" not in obj and obj.get("mtp"):  # oldest artifacts: 'mtp': <mode>
        spec_raw = "mtp"
    spec_method = spec_method_key(spec_raw)
    isl, osl = _lengths(obj, source_file)
    concurrency = _integer(obj, "conc", required=True)
    if concurrency == 0:
        raise InferenceXRecordError("'conc' must be at least 1, got 0")
    n_gpus, n_decode_gpus = _gpus(obj, disaggregated)
    throughput = _number(obj, "tput_per_gpu", required=True)
    assert throughput is not None
    depth = _integer(obj, "draft_depth")
    if depth is None:
        depth = _integer(obj, "num_speculative_tokens")
    side = _topology_prefix(obj)
    tp = _integer(obj, f"{side}tp")
    pp = _integer(obj, f"{side}pp")
    ep = _integer(obj, f"{side}ep")
    dpa_key = f"{side}dp_attention"
    image = _text(obj, "image")
    date = obj.get("date")
    power = _power(obj, n_gpus)
    is_example = obj.get("specscope_example") is True

    try:
        config = PointConfig(
            hardware=hardware,
            model=model,
            precision=precision,
            engine=engine,
            spec_method=spec_method,
            draft_depth=0 if spec_method == OFF else depth,
            disaggregated=disaggregated,
            n_gpus=n_gpus,
            n_decode_gpus=n_decode_gpus,
            tp=tp,
            pp=pp,
            ep=ep,
            dp_attention=_flag(obj, dpa_key),
            isl=isl,
            osl=osl,
            concurrency=concurrency,
        )
        return Point(
            run_id=run_id_for(obj),
            config=config,
            throughput_per_gpu=throughput,
            output_throughput_per_gpu=_number(obj, "output_tput_per_gpu"),
            input_throughput_per_gpu=_number(obj, "input_tput_per_gpu"),
            interactivity=_interactivity(obj),
            ttft=_latency(obj, "ttft"),
            tpot=_latency(obj, "tpot"),
            itl=_latency(obj, "itl"),
            e2el=_latency(obj, "e2el"),
            power_w_per_gpu=power,
            provenance=Provenance(
                source="example" if is_example else "inferencex",
                source_file=source_file,
                date=str(date) if date is not None else None,
                # Artifact names encode '/' in image references as '#'.
                engine_version=image.replace("#", "/") if image else None,
                power_source="measured" if power is not None else "preset",
                extra={k: v for k, v in obj.items() if k not in _MAPPED_KEYS},
            ),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InferenceXRecordError(f"invalid value for {where}: {first['msg']}") from None
