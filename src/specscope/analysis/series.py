"""Split points into series and pick the spec/off pair(s) to compare.

A series is one curve: the points of one spec method on one engine, or of one spec method
across engines when the user pools them. Off is spec method ``none``. Only points with status
``ok`` count. Several draft depths g of one method stay in one series: the frontier then takes
the best g at each interactivity, and the series lists the depths it holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from specscope.errors import UserError
from specscope.schema import OFF, Point

__all__ = ["Series", "method_label", "select_pair", "split_series"]


@dataclass(frozen=True)
class Series:
    """The points of one curve and what they hold."""

    label: str
    """E.g. ``mtp (vllm)``, ``off (sglang+vllm, pooled)``."""
    spec_method: str
    engines: tuple[str, ...]
    points: tuple[Point, ...]
    pooled: bool = False
    notes: tuple[str, ...] = field(default=())
    """Caveats found while selecting the series (e.g. which sequence was picked)."""

    @cached_property
    def draft_depths(self) -> list[int]:
        """The spec draft depths g the series holds (none for off or when unknown)."""
        depths = {p.config.draft_depth for p in self.points}
        return sorted(d for d in depths if d is not None and d > 0)

    @cached_property
    def predicted(self) -> bool:
        return any(p.provenance.source == "predicted" for p in self.points)

    @property
    def is_off(self) -> bool:
        return self.spec_method == OFF


def method_label(spec_method: str) -> str:
    """Short lowercase name of a method for labels: ``none`` → ``off``."""
    return "off" if spec_method == OFF else spec_method


def _label(spec_method: str, engines: Sequence[str], pooled: bool) -> str:
    joined = "+".join(engines)
    suffix = ", pooled" if pooled and len(engines) > 1 else ""
    return f"{method_label(spec_method)} ({joined}{suffix})"


def split_series(points: Iterable[Point], pool: bool = False) -> list[Series]:
    """Group ok points into series keyed by (spec_method, engine), or by spec_method when pooled."""
    grouped: dict[tuple[str, str], list[Point]] = {}
    for p in points:
        if p.status != "ok":
            continue
        key = (p.config.spec_method, "" if pool else p.config.engine)
        grouped.setdefault(key, []).append(p)
    out: list[Series] = []
    for (method, _), pts in sorted(grouped.items()):
        engines = tuple(sorted({p.config.engine for p in pts}))
        out.append(
            Series(
                label=_label(method, engines, pool),
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
    """The (spec, off) pairs to compare: one per engine that has both, or one pooled pair.

    Raises UserError when nothing matches, or when the points span several models, hardware or
    precisions (naming the values and the filter flag). When only sequences differ, the one with
    the most engine×concurrency variants measured on both sides is picked (ties: the larger total),
    as InferenceX does, and a note says so.
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
    relevant, notes = _pick_sequence(relevant, method)
    all_series = split_series(relevant, pool)
    spec_series = [s for s in all_series if s.spec_method == method]
    off_series = {s.engines: s for s in all_series if s.is_off}
    if pool:
        (only_off,) = off_series.values()
        return [(_with_notes(spec_series[0], notes), _with_notes(only_off, notes))]
    pairs: list[tuple[Series, Series]] = []
    unpaired: list[str] = []
    for spec in spec_series:
        off = off_series.pop(spec.engines, None)
        if off is None:
            unpaired.append(f"{spec.engines[0]} has {method} points but no off points")
        else:
            pairs.append((spec, off))
    unpaired += [f"{key[0]} has off points but no {method} points" for key in off_series]
    if not pairs:
        raise UserError(
            f"no engine has both {method} and off points ({'; '.join(unpaired)}); "
            "pool engines into one curve per side with --pool"
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


def _pick_sequence(points: list[Point], method: str) -> tuple[list[Point], list[str]]:
    spec_variants: dict[tuple[int, int], set[tuple[str, int | None]]] = {}
    off_variants: dict[tuple[int, int], set[tuple[str, int | None]]] = {}
    names: dict[tuple[int, int], str] = {}
    for p in points:
        c = p.config
        seq = (c.isl, c.osl)
        if seq not in names:
            names[seq] = c.sequence
            spec_variants[seq] = set()
            off_variants[seq] = set()
        side = off_variants if c.spec_method == OFF else spec_variants
        side[seq].add((c.engine, c.concurrency))
    if len(names) == 1:
        return points, []

    def score(seq: tuple[int, int]) -> tuple[int, int]:
        both = len(spec_variants[seq] & off_variants[seq])
        either = len(spec_variants[seq]) + len(off_variants[seq])
        return both, either

    candidates = [seq for seq in names if spec_variants[seq] and off_variants[seq]]
    if not candidates:
        spec_seqs = ", ".join(names[s] for s in sorted(names) if spec_variants[s])
        off_seqs = ", ".join(names[s] for s in sorted(names) if off_variants[s])
        raise UserError(
            f"{method} and off points share no sequence ({method}: {spec_seqs}; off: {off_seqs}); "
            "measure both sides at one ISL/OSL"
        )
    best = min(candidates, key=lambda seq: (-score(seq)[0], -score(seq)[1], seq))
    both, either = score(best)
    listed = ", ".join(names[s] for s in sorted(names))
    note = (
        f"points cover sequences {listed}; compared {names[best]}, which has the most "
        f"engine×concurrency variants measured on both {method} and off ({both}; {either} in "
        "total); choose another with --sequence"
    )
    return [p for p in points if (p.config.isl, p.config.osl) == best], [note]
