"""Plain-English text for a comparison: ratio wording, number formats, one paragraph per target.

Wording says what is true: the cheaper side "costs 56 % less (2.29× cheaper)", never "129 %
cheaper"; the faster side "delivers 132 % more tok/s/GPU (2.32×)". A gap under 1 % is a tie.
Concurrency between measured load levels is a spline value, so it is always written as
approximate unless it is a measured point.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Literal

from specscope.analysis.results import Comparison, SideAtTarget, TargetComparison

__all__ = [
    "RatioKind",
    "describe_comparison",
    "describe_target",
    "display_name",
    "fmt_concurrency",
    "fmt_factor",
    "fmt_interactivity",
    "fmt_percent",
    "fmt_tie_factor",
    "fmt_tok_s",
    "fmt_usd",
    "held_sentence",
    "no_overlap_sentence",
    "ratio_wording",
    "unreachable_sentence",
]

RatioKind = Literal["cost", "throughput", "power"]

_METHOD_NAMES = {
    "off": "Off",
    "none": "Off",
    "mtp": "MTP",
    "eagle": "EAGLE",
    "eagle3": "EAGLE-3",
    "ngram": "n-gram",
    "draft_model": "draft model",
    "synthetic": "synthetic acceptance",
}


def display_name(label: str) -> str:
    """Label for prose: ``mtp (vllm)`` → ``MTP (vllm)``, ``off (vllm)`` → ``Off (vllm)``."""
    method, sep, rest = label.partition(" (")
    return _METHOD_NAMES.get(method, method) + sep + rest


def _fixed(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def fmt_usd(usd: float) -> str:
    """Dollars per million tokens for prose and tables: $1,234 / $12.3 / $0.518 / $0.00123."""
    if not math.isfinite(usd):
        return "n/a"
    if usd >= 100:
        return f"${usd:,.0f}"
    if usd >= 10:
        return f"${usd:.1f}"
    if usd >= 0.01 or usd == 0:
        return f"${usd:.3f}"
    return f"${_fixed(usd, 2 - math.floor(math.log10(usd)))}"


def fmt_tok_s(tok_s: float) -> str:
    """Throughput: 4,729 / 25.3 / 3.14."""
    if tok_s >= 100:
        return f"{tok_s:,.0f}"
    if tok_s >= 10:
        return f"{tok_s:.1f}"
    return f"{tok_s:.2f}"


_EXACT_DIGITS = 6
"""A value with at most this many significant digits is printed as it is (a target given as
139.99 stays 139.99); longer ones (measured means) are rounded to 3 significant figures."""


def fmt_interactivity(tok_s_user: float) -> str:
    """Interactivity: 78 / 139.99 / 1,250 as given; a long measured value 77.4817… → 77.5."""
    if not math.isfinite(tok_s_user):
        return "n/a"
    if tok_s_user == round(tok_s_user):
        return f"{round(tok_s_user):,}"
    exact = Decimal(repr(tok_s_user))
    if len(exact.as_tuple().digits) <= _EXACT_DIGITS:
        return f"{exact:,f}"
    if abs(tok_s_user) >= 100:
        return f"{tok_s_user:,.0f}"
    if abs(tok_s_user) >= 10:
        return f"{tok_s_user:.1f}"
    return f"{tok_s_user:.2f}"


def _half_up(value: float, decimals: int = 0) -> str:
    """Round half away from zero for display (format() rounds half to even: 62.5 → "62")."""
    quantum = Decimal(1).scaleb(-decimals)
    return str(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def fmt_concurrency(concurrency: float) -> str:
    """Load: 16 / 27.6 / 4 / 1,024 (a whole number stays whole)."""
    decimals = 0 if concurrency == round(concurrency) or concurrency >= 10 else 1
    return f"{Decimal(_half_up(concurrency, decimals)):,f}"


def fmt_percent(percent: float) -> str:
    """56 % / 4.8 % / 99.4 %; a value just under 100 never rounds up to "100 %"."""
    if percent < 10:
        return f"{_half_up(percent, 1)} %"
    whole = _half_up(percent)
    if percent < 100 <= float(whole):
        one = _half_up(percent, 1)
        return f"{one} %" if float(one) < 100 else "> 99.9 %"
    return f"{whole} %"


def fmt_factor(factor: float) -> str:
    """2.29× / 12.4× / 175×."""
    if not math.isfinite(factor):
        return "∞×"
    if factor < 10:
        return f"{_half_up(factor, 2)}×"
    if factor < 100:
        return f"{_half_up(factor, 1)}×"
    return f"{_half_up(factor)}×"


def fmt_tie_factor(factor: float) -> str:
    """A tie's factor cut (not rounded) to 3 decimals: 1.0099 → 1.009×, never a "1.01×" that
    reads like the 1 % it falls short of."""
    cut = Decimal(repr(factor)).quantize(Decimal("0.001"), rounding=ROUND_DOWN)
    return f"{cut}×"


def ratio_wording(kind: RatioKind, factor: float, percent: float, tie: bool) -> str:
    """How the winner of one ratio is described (the subject, the winner's name, comes before)."""
    if tie:
        shown = fmt_tie_factor(factor)
        return {
            "cost": f"costs the same to within 1 % ({shown})",
            "throughput": f"delivers the same tok/s/GPU to within 1 % ({shown})",
            "power": f"delivers the same tok/s/MW to within 1 % ({shown})",
        }[kind]
    if kind == "cost":
        return f"costs {fmt_percent(percent)} less ({fmt_factor(factor)} cheaper)"
    unit = "tok/s/GPU" if kind == "throughput" else "tok/s/MW"
    return f"delivers {fmt_percent(percent)} more {unit} ({fmt_factor(factor)})"


def _side_name(winner: Literal["spec", "off", "tie"], spec_name: str, off_name: str) -> str:
    return spec_name if winner == "spec" else off_name


def _range(lo_hi: tuple[float, float]) -> str:
    return f"{fmt_interactivity(lo_hi[0])}–{fmt_interactivity(lo_hi[1])}"


def no_overlap_sentence(
    spec_label: str,
    spec_range: tuple[float, float],
    off_label: str,
    off_range: tuple[float, float],
) -> str:
    """Why a comparison without a shared interactivity makes no targets."""
    return (
        f"{display_name(spec_label)} reaches {_range(spec_range)} tok/s/user, "
        f"{display_name(off_label)} {_range(off_range)}: they never run at the same "
        "interactivity, so there is nothing to compare at matched interactivity."
    )


def unreachable_sentence(
    at: float, spec: SideAtTarget, off: SideAtTarget, spec_name: str, off_name: str
) -> str:
    """Which side(s) cannot reach ``at`` and their best; names are labels or prose names."""
    parts = [
        f"{display_name(name)} cannot reach {fmt_interactivity(at)} tok/s/user (its best is "
        f"{fmt_interactivity(side.interactivity)})"
        for name, side in ((spec_name, spec), (off_name, off))
        if not side.reaches
    ]
    return "; ".join(parts) + ", so nothing is compared at this target."


def held_sentence(name: str, side: SideAtTarget) -> str:
    """A side that runs faster than asked, held at its slowest frontier point, with its figures."""
    return (
        f"{name} runs faster than asked, so it is held at its slowest measured point (not "
        f"extrapolated), {fmt_interactivity(side.interactivity)} tok/s/user, where it delivers "
        f"{fmt_tok_s(side.throughput_per_gpu)} tok/s/GPU at {fmt_usd(side.usd_per_mtok)} per "
        "million tokens."
    )


def _cost_sentence(t: TargetComparison, spec_name: str, off_name: str) -> str:
    assert t.cost is not None
    spec_usd, off_usd = fmt_usd(t.spec.usd_per_mtok), fmt_usd(t.off.usd_per_mtok)
    if t.cost.winner == "tie":
        return (
            f"{spec_name} and {off_name} cost the same to within 1 % "
            f"({spec_usd} and {off_usd} per million tokens)."
        )
    winner = _side_name(t.cost.winner, spec_name, off_name)
    loser = off_name if t.cost.winner == "spec" else spec_name
    win_usd, lose_usd = (spec_usd, off_usd) if t.cost.winner == "spec" else (off_usd, spec_usd)
    return (
        f"{winner} {t.cost.wording} than {loser}: {win_usd} against {lose_usd} per million tokens."
    )


def _throughput_sentence(t: TargetComparison, spec_name: str, off_name: str) -> str:
    both = (
        f"One GPU serves {fmt_tok_s(t.spec.throughput_per_gpu)} tok/s with {spec_name} and "
        f"{fmt_tok_s(t.off.throughput_per_gpu)} tok/s with {off_name}"
    )
    assert t.throughput is not None
    if t.throughput.winner == "tie":
        return f"{both}, the same to within 1 %."
    winner = _side_name(t.throughput.winner, spec_name, off_name)
    return f"{both}; {winner} {t.throughput.wording}."


def _load(name: str, side: SideAtTarget) -> str:
    if side.concurrency is None:
        return f"{name} not recorded"
    if side.concurrency_interpolated:
        return f"{name} about {fmt_concurrency(side.concurrency)}"
    return f"{name} {fmt_concurrency(side.concurrency)} (measured)"


def _concurrency_sentence(t: TargetComparison, spec_name: str, off_name: str) -> str:
    sentence = (
        "Requests in flight needed to hold that pace: "
        f"{_load(spec_name, t.spec)}, {_load(off_name, t.off)}"
    )
    if any(s.concurrency is not None and s.concurrency_interpolated for s in (t.spec, t.off)):
        sentence += " (the 'about' figures are estimates between measured load levels)"
    return sentence + "."


def _clamp_sentence(t: TargetComparison) -> str:
    """The target moved up to the band (a side held at its edge is said once, in
    :func:`held_sentence`)."""
    if t.requested == t.interactivity:
        return ""
    return (
        f"Caution: {fmt_interactivity(t.requested)} tok/s/user was asked, outside the compared "
        f"band, so the comparison is made at {fmt_interactivity(t.interactivity)}."
    )


def _names(spec_label: str, off_label: str) -> tuple[str, str, str]:
    """Names for prose; when both curves hold the same engines, say them once (returned third)."""
    spec_name, off_name = display_name(spec_label), display_name(off_label)
    spec_method, _, spec_rest = spec_name.partition(" (")
    off_method, _, off_rest = off_name.partition(" (")
    if spec_rest and spec_rest == off_rest:
        return spec_method, off_method, " (" + spec_rest
    return spec_name, off_name, ""


def describe_target(t: TargetComparison, spec_label: str, off_label: str) -> str:
    """One paragraph for one target: cost winner, throughput, load needed, clamp warning; or,
    when a side cannot reach the target, which side and its best, and no winner."""
    spec_name, off_name, engines = _names(spec_label, off_label)
    head = f"Target {fmt_interactivity(t.interactivity)} tok/s/user{engines}."
    if t.cost is None or t.throughput is None or not (t.spec.reaches and t.off.reaches):
        return f"{head} {unreachable_sentence(t.interactivity, t.spec, t.off, spec_name, off_name)}"
    held = [
        held_sentence(name, side)
        for name, side in ((spec_name, t.spec), (off_name, t.off))
        if side.clamped_below
    ]
    sentences = [
        head,
        *held,
        _cost_sentence(t, spec_name, off_name),
        _throughput_sentence(t, spec_name, off_name),
        _concurrency_sentence(t, spec_name, off_name),
        _clamp_sentence(t),
    ]
    return " ".join(s for s in sentences if s)


def describe_comparison(c: Comparison) -> list[str]:
    """An opening paragraph naming what is compared, then each target's paragraph."""
    spec_name, off_name = display_name(c.spec.label), display_name(c.off.label)
    if c.refusal is not None:
        return [
            f"{spec_name} against {off_name} for {c.model} on {c.hardware} ({c.precision}, "
            f"{c.sequence}). {c.refusal}"
        ]
    lo, hi = c.band
    band = f"{fmt_interactivity(lo)}–{fmt_interactivity(hi)} tok/s/user"
    cover = (
        f"over the {band} range both curves cover"
        if c.band_overlaps
        else f"over {band}, although the two curves do not overlap in interactivity"
    )
    opening = (
        f"{spec_name} against {off_name} for {c.model} on {c.hardware} ({c.precision}, "
        f"{c.sequence}), matched at equal interactivity {cover}. Prices: "
        f"${c.economics.usd_per_gpu_hour:g}/GPU-hour and {c.economics.kw_per_gpu:g} kW/GPU "
        f"({c.economics.preset}, {c.economics.date})."
    )
    return [opening, *(t.narrative for t in c.targets)]
