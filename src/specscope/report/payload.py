"""The data a comparison page embeds: plain JSON, built from typed inputs, never JavaScript source.

The page script reads it with ``JSON.parse`` from ``<script type="application/json" id="data">``.
:func:`embed_json` escapes ``<``, ``>``, ``&`` and U+2028/U+2029 so no data string can close
the script element or be read as markup.

Layout (all keys short: a page may hold tens of thousands of operating points):

- ``series[i]``: one curve (spec method × engines, or Off) with its operating points (repeats
  merged as ``analysis.stats.aggregate_repeats`` merges them) as parallel arrays, the distinct
  configs the hover shows, and the frontier (indices into the arrays, by interactivity). ``hd``
  and ``hr`` count each operating point's repeats whose window other processes disturbed and
  that were re-measured (``client/hostload.py``); both are empty when no point has either.
- ``views[i]``: one comparison (a pair of series) with the embedded ``Comparison`` (whose
  ``acceptance_by_workload`` sets its method's acceptance on every workload side by side),
  acceptance by depth, the measured g-sweep and ``host``, the line saying how many of its points
  were disturbed (null when no point has a host record).
- ``pages``: every pair of the report with its file, for the hardware and model controls.
- ``presets``: price/power presets, reduced to the hardware this page shows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from specscope.analysis.economics import Preset, hardware_key
from specscope.analysis.narrative import display_name
from specscope.client.hostload import disturbance_summary
from specscope.report.acceptance import acceptance_by_depth, explain_rows
from specscope.report.curves import host_counts, series_curve
from specscope.report.models import ReportPair
from specscope.schema import Point

JSONValue = Any

PAYLOAD_VERSION = 1

_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def embed_json(value: JSONValue) -> str:
    """JSON text safe inside ``<script type="application/json">``.

    Non-finite floats become ``null`` (JSON has no NaN or Infinity). The five characters that
    could end the element or confuse a parser are written as ``\\uXXXX`` escapes, which
    ``JSON.parse`` reads back as the same characters.
    """
    text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in _JSON_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def _finite(value: JSONValue) -> JSONValue:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _rounded(value: float) -> float:
    """Six significant digits: enough to draw and hover a point that is not on a frontier."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.6g}")


def _series_key(info: Mapping[str, JSONValue], n_points: int) -> tuple[object, ...]:
    """What makes two sides of two pairs the same curve (an Off series shared by several pairs).

    The label names the method and the engines the curve holds (pooled or not), so together with
    model, hardware, precision, sequence and workload it identifies the series; the point count
    guards against two differently filtered selections of it.
    """
    fields = ("model", "hardware", "precision", "isl", "osl", "workload", "label", "method", "off")
    return (*(str(info[f]) for f in fields), n_points)


def _mean_acceptance_length(points: Sequence[Point]) -> float | None:
    """Count-weighted AL of the points (1 + Σaccepted / Σdrafts), else the mean reported AL."""
    drafts = 0
    accepted = 0
    reported: list[float] = []
    for point in points:
        acc = point.acceptance
        if acc is None:
            continue
        if acc.drafts and acc.accepted_tokens is not None:
            drafts += acc.drafts
            accepted += acc.accepted_tokens
        elif acc.reported_acceptance_length is not None:
            reported.append(acc.reported_acceptance_length)
    if drafts:
        return 1.0 + accepted / drafts
    if reported:
        return math.fsum(reported) / len(reported)
    return None


def series_payload(points: Sequence[Point], info: Mapping[str, JSONValue]) -> dict[str, JSONValue]:
    """One curve: operating points, their configs, and the frontier (indices, by interactivity).

    Repeats are merged and the frontier taken exactly as ``analysis.compare`` does (operating
    points with positive, finite throughput and interactivity), so the page's curve is the one
    the comparison interpolated. Values on the frontier keep every digit (the page recomputes
    edited targets from them); the others are rounded to six significant digits for size.
    """
    curve = series_curve(points)
    ok, ops, front = curve.points, curve.ops, curve.front
    x, y = ops.interactivity, ops.throughput_per_gpu
    on_front = set(front)
    configs: list[dict[str, JSONValue]] = []
    config_index: dict[tuple[object, ...], int] = {}
    cfg_of: list[int] = []
    al_of: list[float | None] = []
    members_of: list[list[int]] = [[] for _ in range(len(ops))]
    for j, group in enumerate(ops.group_of.tolist()):
        members_of[group].append(j)
    for members in members_of:
        cfg = ok[members[0]].config
        key = (cfg.engine, cfg.draft_depth, cfg.tp, cfg.pp, cfg.ep, cfg.n_gpus, cfg.disaggregated)
        if key not in config_index:
            config_index[key] = len(configs)
            configs.append(
                {
                    "engine": cfg.engine,
                    "g": cfg.draft_depth,
                    "tp": cfg.tp,
                    "pp": cfg.pp,
                    "ep": cfg.ep,
                    "gpus": cfg.n_gpus,
                    "disagg": cfg.disaggregated,
                }
            )
        cfg_of.append(config_index[key])
        al = _mean_acceptance_length([ok[m] for m in members])
        al_of.append(None if al is None else round(al, 4))

    def column(values: npt.NDArray[np.float64]) -> list[float | None]:
        out: list[float | None] = []
        for i, v in enumerate(values.tolist()):
            if not math.isfinite(v):
                out.append(None)
            else:
                out.append(float(v) if i in on_front else _rounded(float(v)))
        return out

    repeated = bool(np.any(ops.n_repeats > 1))
    disturbed, remeasured = host_counts(curve)
    return {
        **info,
        "n_points": len(ok),
        "op": {
            "x": column(x),
            "y": column(y),
            "c": column(ops.concurrency),
            "n": [int(n) for n in ops.n_repeats.tolist()],
            "sd": column(ops.throughput_sd) if repeated else [],
            "sdx": column(ops.interactivity_sd) if repeated else [],
            "cxy": column(ops.covariance) if repeated else [],
            "cfg": cfg_of,
            "al": al_of,
            "hd": disturbed if any(disturbed) else [],
            "hr": remeasured if any(remeasured) else [],
        },
        "cfgs": configs,
        "front": list(front),
    }


def _side_info(pair: ReportPair, side: str) -> dict[str, JSONValue]:
    cmp = pair.comparison
    info = cmp.spec if side == "spec" else cmp.off
    return {
        "label": info.label,
        "method": info.spec_method,
        "engines": list(info.engines),
        "off": side == "off",
        "predicted": info.predicted,
        "model": cmp.model,
        "hardware": cmp.hardware,
        "precision": cmp.precision,
        "sequence": cmp.sequence,
        "isl": cmp.isl,
        "osl": cmp.osl,
        "workload": cmp.workload,
    }


def view_engine(pair: ReportPair) -> str:
    """The engine value the controls show for a pair: its spec series' engines joined by '+'."""
    return "+".join(pair.comparison.spec.engines) or "unknown"


def pair_key(pair: ReportPair) -> dict[str, str]:
    """The fields the page's controls select a pair by."""
    cmp = pair.comparison
    return {
        "model": cmp.model,
        "hardware": cmp.hardware,
        "precision": cmp.precision,
        "sequence": cmp.sequence,
        "workload": cmp.workload,
        "method": cmp.spec.spec_method,
        "engine": view_engine(pair),
    }


def headline(pair: ReportPair) -> str:
    """One line for the index: the cost ratio at the middle target."""
    targets = pair.comparison.targets
    if not targets:  # (the page and the index add their own full stop)
        return (pair.comparison.refusal or "no target inside both series' ranges").rstrip(".")
    middle = targets[len(targets) // 2]
    spec_name = display_name(pair.comparison.spec.label)
    off_name = display_name(pair.comparison.off.label)
    ratio = middle.cost
    if ratio is None:
        refusal = (middle.refusal or "").rstrip(".")
        return f"not compared at {middle.interactivity:.0f} tok/s/user: {refusal}"
    if ratio.winner == "tie":
        who = f"{spec_name} and {off_name}"
    else:
        who = spec_name if ratio.winner == "spec" else off_name
    return f"{who} {ratio.wording} at {middle.interactivity:.0f} tok/s/user"


def preset_payload(presets: Sequence[Preset], hardware: set[str]) -> list[dict[str, JSONValue]]:
    """Presets that price at least one of the page's hardware keys, reduced to those keys."""
    out: list[dict[str, JSONValue]] = []
    for preset in presets:
        values = {
            hw: [econ.usd_per_gpu_hour, econ.kw_per_gpu]
            for hw, econ in preset.hardware.items()
            if hw in hardware
        }
        if not values:
            continue
        out.append(
            {
                "name": preset.name,
                "date": preset.date,
                "source": preset.source,
                "tier": preset.tier_description,
                "note": preset.note,
                "hw": values,
            }
        )
    return out


class PayloadCache:
    """Pieces of the payload that several pages of one report share, computed once."""

    def __init__(self) -> None:
        self.series: dict[tuple[object, ...], dict[str, JSONValue]] = {}
        self.views: dict[int, dict[str, JSONValue]] = {}


def _view_row(pair: ReportPair) -> dict[str, JSONValue]:
    acceptance = (
        pair.acceptance if pair.acceptance is not None else acceptance_by_depth(pair.spec_points)
    )
    return {
        **pair_key(pair),
        "cmp": pair.comparison.model_dump(mode="json"),
        "acc": [row.model_dump(mode="json") for row in acceptance],
        "explain": [
            row.model_dump(mode="json") for row in explain_rows(pair.spec_points, pair.off_points)
        ],
        "headline": headline(pair),
        "host": disturbance_summary([*pair.spec_points, *pair.off_points]),
    }


def build_payload(
    views: Sequence[ReportPair],
    default_view: int,
    presets: Sequence[Preset],
    pages: Sequence[Mapping[str, str]],
    view_files: Sequence[str | None],
    title: str,
    cache: PayloadCache | None = None,
) -> dict[str, JSONValue]:
    """The whole page's data: ``views`` are the pairs this page can switch between in place.

    ``pages`` lists every pair of the report (key fields, ``file``, ``headline``) so the model
    and hardware controls can link to pages this one does not hold.
    """
    cache = cache if cache is not None else PayloadCache()
    series: list[dict[str, JSONValue]] = []
    series_index: dict[tuple[object, ...], int] = {}

    def add_series(pair: ReportPair, side: str) -> int:
        points = pair.spec_points if side == "spec" else pair.off_points
        info = _side_info(pair, side)
        key = _series_key(info, len(points))
        if key not in series_index:
            if key not in cache.series:
                cache.series[key] = series_payload(points, info)
            series_index[key] = len(series)
            series.append(cache.series[key])
        return series_index[key]

    view_rows: list[dict[str, JSONValue]] = []
    hardware: set[str] = set()
    for pair, file in zip(views, view_files, strict=True):
        hardware.add(hardware_key(pair.comparison.hardware))
        hardware.add(pair.comparison.economics.hardware)
        if id(pair) not in cache.views:
            cache.views[id(pair)] = _view_row(pair)
        view_rows.append(
            {
                **cache.views[id(pair)],
                "file": file,
                "spec": add_series(pair, "spec"),
                "offs": add_series(pair, "off"),
            }
        )
    return {
        "version": PAYLOAD_VERSION,
        "title": title,
        "default_view": default_view,
        "views": view_rows,
        "series": series,
        "pages": [dict(page) for page in pages],
        "presets": preset_payload(presets, hardware),
    }
