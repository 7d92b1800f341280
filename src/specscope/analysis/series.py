"""Split points into series and pick the spec/off pair(s) to compare.

A series is one curve: the points of one spec method on one engine in one deployment
(aggregated, or disaggregated prefill/decode: InferenceX keeps ``-disagg`` curves apart too), or
of one spec method across engines and deployments when the user pools them. A disaggregated
series is named ``<engine> disagg`` in its label (``mtp (sglang disagg)``); aggregated ones keep
the bare engine name. Off is spec method ``none``. Only points with status ``ok`` count.
Several draft depths g of one method stay in one series: the frontier then takes the best g at
each interactivity, and the series lists the depths it holds. A pair never mixes workloads or
sequences: acceptance, and so the curve, depends on the text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from specscope.errors import UserError
from specscope.schema import OFF, Point, PointConfig

__all__ = [
    "AGGREGATED",
    "DISAGGREGATED",
    "Series",
    "deployment_label",
    "engine_label",
    "method_label",
    "select_pair",
    "split_series",
]

AGGREGATED = "aggregated"
DISAGGREGATED = "disaggregated"


def deployment_label(disaggregated: bool) -> str:
    """``aggregated`` or ``disaggregated`` (prefill and decode on separate GPUs)."""
    return DISAGGREGATED if disaggregated else AGGREGATED


def engine_label(engine: str, disaggregated: bool) -> str:
    """An engine as a series names it: ``sglang``, or ``sglang disagg`` when disaggregated."""
    return f"{engine} disagg" if disaggregated else engine


@dataclass(frozen=True)
class Series:
    """The points of one curve and what they hold."""

    label: str
    """E.g. ``mtp (vllm)``, ``mtp (sglang disagg)``, ``off (sglang+vllm, pooled)``."""
    spec_method: str
    engines: tuple[str, ...]
    points: tuple[Point, ...]
    pooled: bool = False
    notes: tuple[str, ...] = field(default=())
    """Caveats found while selecting the series (e.g. which sequence was picked)."""

    @cached_property
    def deployments(self) -> tuple[str, ...]:
        """The deployments the points were measured in: ``aggregated``, ``disaggregated`` (both
        only when pooled)."""
        return tuple(sorted({deployment_label(p.config.disaggregated) for p in self.points}))

    @cached_property
    def members(self) -> tuple[str, ...]:
        """The engine × deployment curves the series holds, as labels name them
        (``("sglang", "sglang disagg")``); one unless pooled."""
        return _members(self.points)

    @cached_property
    def draft_depths(self) -> list[int]:
        """The spec draft depths g the series holds (none for off or when unknown)."""
        depths = {p.config.draft_depth for p in self.points}
        return sorted(d for d in depths if d is not None and d > 0)

    @cached_property
    def workload(self) -> str:
        """The workload the points were measured on (several joined by '+'); empty when they
        name none."""
        return "+".join(sorted({p.config.workload for p in self.points} - {""}))

    @cached_property
    def predicted(self) -> bool:
        return any(p.provenance.source == "predicted" for p in self.points)

    @property
    def is_off(self) -> bool:
        return self.spec_method == OFF


def method_label(spec_method: str) -> str:
    """Short lowercase name of a method for labels: ``none`` → ``off``."""
    return "off" if spec_method == OFF else spec_method


def _members(points: Iterable[Point]) -> tuple[str, ...]:
    return tuple(sorted({engine_label(p.config.engine, p.config.disaggregated) for p in points}))


def _label(spec_method: str, members: Sequence[str], pooled: bool) -> str:
    """``mtp (vllm)``, ``mtp (sglang disagg)``, ``off (sglang+sglang disagg+vllm, pooled)``."""
    joined = "+".join(members)
    suffix = ", pooled" if pooled and len(members) > 1 else ""
    return f"{method_label(spec_method)} ({joined}{suffix})"


def split_series(points: Iterable[Point], pool: bool = False) -> list[Series]:
    """Group ok points into series keyed by (spec_method, engine, deployment), or by
    spec_method alone when pooled (engines and deployments both pooled)."""
    grouped: dict[tuple[str, str, bool], list[Point]] = {}
    for p in points:
        if p.status != "ok":
            continue
        c = p.config
        key = (c.spec_method, "", False) if pool else (c.spec_method, c.engine, c.disaggregated)
        grouped.setdefault(key, []).append(p)
    out: list[Series] = []
    for (method, _, _), pts in sorted(grouped.items()):
        engines = tuple(sorted({p.config.engine for p in pts}))
        out.append(
            Series(
                label=_label(method, _members(pts), pool),
                spec_method=method,
                engines=engines,
                points=tuple(pts),
                pooled=pool,
            )
        )
    return out


_DIMENSIONS = (
    ("model", "--model"),
    ("hardware", "--hardware"),
    ("precision", "--precision"),
)


def select_pair(
    points: Iterable[Point],
    spec_method: str = "mtp",
    pool: bool = False,
    engine: str | None = None,
) -> list[tuple[Series, Series]]:
    """The (spec, off) pairs to compare: one per engine and deployment (aggregated or
    disaggregated) that has both, or one pooled pair (engines and deployments pooled).

    Raises UserError when nothing matches, or when the points span several models, hardware or
    precisions (naming the values and the filter flag). When workloads differ, the one with the
    most engine×concurrency×sequence variants measured on both sides is picked (ties: the larger
    total, then the name), and a note says so; then, among that workload's sequences, the one
    with the most engine×concurrency variants on both sides, as InferenceX does, with a note.
    """
    method = spec_method.strip().lower()
    if method == OFF:
        raise UserError("spec method 'none' is the off side; choose a spec method such as mtp")
    wanted = None if engine is None else engine.strip().lower()
    methods_present: set[str] = set()
    engines_present: set[str] = set()
    slices: dict[str, set[str]] = {attr: set() for attr, _ in _DIMENSIONS}
    relevant: list[Point] = []
    has_spec = has_off = False
    for p in points:
        if p.status != "ok":
            continue
        c = p.config
        methods_present.add(c.spec_method)
        if c.spec_method != method and c.spec_method != OFF:
            continue
        engines_present.add(c.engine)
        if wanted is not None and c.engine != wanted:
            continue
        relevant.append(p)
        slices["model"].add(c.model)
        slices["hardware"].add(c.hardware)
        slices["precision"].add(c.precision)
        has_off = has_off or c.spec_method == OFF
        has_spec = has_spec or c.spec_method == method
    if not methods_present:
        raise UserError("no points with status 'ok' to compare; run a sweep or import results")
    if wanted is not None and not relevant:
        raise UserError(
            f"no {method} or off points on engine '{engine}'; engines present: "
            f"{', '.join(sorted(engines_present)) or 'none'}"
        )
    if not has_spec:
        raise UserError(
            f"no points with spec method '{method}'; methods present: "
            f"{', '.join(sorted(methods_present))}"
        )
    if not has_off:
        raise UserError(
            f"no off points (spec method 'none') to compare {method} against; "
            "measure or import a spec-off run"
        )
    _check_single_slice(slices)
    relevant, notes = _pick(relevant, method, _WORKLOAD)
    relevant, sequence_notes = _pick(relevant, method, _SEQUENCE)
    notes += sequence_notes
    all_series = split_series(relevant, pool)
    spec_series = [s for s in all_series if s.spec_method == method]
    off_series = {s.members: s for s in all_series if s.is_off}
    if pool:
        (only_off,) = off_series.values()
        return [(_with_notes(spec_series[0], notes), _with_notes(only_off, notes))]
    pairs: list[tuple[Series, Series]] = []
    unpaired: list[str] = []
    for spec in spec_series:
        off = off_series.pop(spec.members, None)
        if off is None:
            unpaired.append(f"{spec.members[0]} has {method} points but no off points")
        else:
            pairs.append((spec, off))
    unpaired += [f"{key[0]} has off points but no {method} points" for key in off_series]
    if not pairs:
        raise UserError(
            f"no engine has both {method} and off points ({'; '.join(unpaired)}); "
            "pool engines (and deployments) into one curve per side with --pool"
        )
    notes += [f"not compared: {text}" for text in unpaired]
    return [(_with_notes(s, notes), _with_notes(o, notes)) for s, o in pairs]


def _with_notes(series: Series, notes: Sequence[str]) -> Series:
    if not notes:
        return series
    return Series(
        label=series.label,
        spec_method=series.spec_method,
        engines=series.engines,
        points=series.points,
        pooled=series.pooled,
        notes=(*series.notes, *notes),
    )


def _check_single_slice(slices: dict[str, set[str]]) -> None:
    problems: list[str] = []
    for attr, flag in _DIMENSIONS:
        values = sorted(slices[attr])
        if len(values) > 1:
            listed = ", ".join(values)
            problems.append(f"{len(values)} {attr} values ({listed}): pick one with {flag}")
    if problems:
        raise UserError("points span more than one slice; " + "; ".join(problems))


_Key = tuple[int | str, ...]
_Variant = tuple[str, int | None, int, int]
"""Engine (``<engine> disagg`` when disaggregated), concurrency, ISL, OSL."""


@dataclass(frozen=True)
class _Slicing:
    """One way the points of a pair may be split that a comparison must not pool."""

    noun: str
    """What a value is called: ``sequence``, ``workload``."""
    flag: str
    """The option that chooses another value."""
    remedy: str
    """What to do when the two sides share no value."""
    key: Callable[[PointConfig], _Key]
    name: Callable[[PointConfig], str]


_SEQUENCE = _Slicing(
    noun="sequence",
    flag="--sequence",
    remedy="measure both sides at one ISL/OSL",
    key=lambda c: (c.isl, c.osl),
    name=lambda c: c.sequence,
)
_WORKLOAD = _Slicing(
    noun="workload",
    flag="--workload",
    remedy="measure both sides on one workload",
    key=lambda c: (c.workload,),
    name=lambda c: c.workload or "unnamed",
)


def _pick(points: list[Point], method: str, slicing: _Slicing) -> tuple[list[Point], list[str]]:
    """The points of one value of ``slicing`` (the one with the most engine × concurrency ×
    sequence variants measured on both sides; ties: the larger total, then the lower key), and
    a note naming it when there was a choice."""
    spec_variants: dict[_Key, set[_Variant]] = {}
    off_variants: dict[_Key, set[_Variant]] = {}
    names: dict[_Key, str] = {}
    for p in points:
        c = p.config
        key = slicing.key(c)
        if key not in names:
            names[key] = slicing.name(c)
            spec_variants[key] = set()
            off_variants[key] = set()
        side = off_variants if c.spec_method == OFF else spec_variants
        side[key].add((engine_label(c.engine, c.disaggregated), c.concurrency, c.isl, c.osl))
    if len(names) == 1:
        return points, []

    def score(key: _Key) -> tuple[int, int]:
        both = len(spec_variants[key] & off_variants[key])
        either = len(spec_variants[key]) + len(off_variants[key])
        return both, either

    ordered = sorted(names)
    candidates = [key for key in ordered if spec_variants[key] and off_variants[key]]
    if not candidates:
        spec_values = ", ".join(names[k] for k in ordered if spec_variants[k])
        off_values = ", ".join(names[k] for k in ordered if off_variants[k])
        raise UserError(
            f"{method} and off points share no {slicing.noun} ({method}: {spec_values}; off: "
            f"{off_values}); {slicing.remedy}"
        )
    best = min(candidates, key=lambda key: (-score(key)[0], -score(key)[1]))
    both, either = score(best)
    listed = ", ".join(names[k] for k in ordered)
    note = (
        f"points cover {slicing.noun}s {listed}; compared {names[best]}, which has the most "
        f"engine×concurrency variants measured on both {method} and off ({both}; {either} in "
        f"total); choose another with {slicing.flag}"
    )
    return [p for p in points if slicing.key(p.config) == best], [note]
