"""The adaptive sweep's grid, observations and answers (pydantic models), and the answers in
words. The models are written to the adaptive log and ``sweep --adaptive --json``, so the draft
depth keeps its short name ``g`` in them (and ``best_g`` as a question)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MIN_REPEATS = 2
"""Repeats of every coarse-ladder cell (the pooled noise estimate comes from them)."""
REFINE_MARGIN = 0.10
"""A target ratio within this relative distance of 1 gets its interpolation refined."""

Verdict = Literal["a", "b", "tie", "open"]
Question = Literal["coarse", "best_g", "crossover", "best_g_change", "target", "repeat"]


class Arm(BaseModel):
    """One server config of the grid: Off (``g`` 0) or a spec config at one g."""

    model_config = ConfigDict(frozen=True)

    label: str
    """The sweep key's server label (``name:settings label``)."""
    family: str
    """The recipe's spec entry (and synthetic AL) the arm belongs to; its g form one ladder."""
    g: int
    off: bool = False


class Observation(BaseModel):
    """One measured (ok) point, as the decision core needs it."""

    model_config = ConfigDict(frozen=True)

    arm: str
    workload: str
    concurrency: int
    repeat: int
    throughput_per_gpu: float = Field(gt=0)
    interactivity: float = Field(gt=0)


class Candidates(BaseModel):
    """The grid the adaptive sweep chooses from."""

    model_config = ConfigDict(frozen=True)

    arms: list[Arm]
    workloads: list[str]
    concurrencies: list[int]
    max_repeats: int = Field(default=3, ge=MIN_REPEATS)

    def off(self) -> Arm:
        return next(a for a in self.arms if a.off)

    def spec_arms(self) -> list[Arm]:
        return [a for a in self.arms if not a.off]

    def families(self) -> dict[str, list[Arm]]:
        """Spec arms per family, sorted by g (recipe order of families kept)."""
        fams: dict[str, list[Arm]] = {}
        for arm in self.spec_arms():
            fams.setdefault(arm.family, []).append(arm)
        return {k: sorted(v, key=lambda a: a.g) for k, v in fams.items()}

    def start_arm(self) -> Arm:
        """The spec config of the coarse ladder: the middle g of the first spec entry."""
        first = next(iter(self.families().values()))
        return first[(len(first) - 1) // 2]

    def coarse_ladder(self) -> list[int]:
        cs = sorted(self.concurrencies)
        return sorted({cs[0], cs[len(cs) // 2], cs[-1]})

    @property
    def grid_points(self) -> int:
        return len(self.arms) * len(self.workloads) * len(self.concurrencies) * self.max_repeats

    @property
    def ladder_points(self) -> int:
        """Points of the coarse ladder (Off and the start arm at each ladder concurrency,
        :data:`MIN_REPEATS` times per workload): no answer has an interval before they are in."""
        return len(self.workloads) * 2 * len(self.coarse_ladder()) * MIN_REPEATS


class Proposal(BaseModel):
    """The next point to measure and why."""

    model_config = ConfigDict(frozen=True)

    arm: str
    workload: str
    concurrency: int
    repeat: int
    question: Question
    reason: str


class BestDepth(BaseModel):
    """Answer (a) at one concurrency."""

    model_config = ConfigDict(frozen=True)

    concurrency: int
    arm: str | None
    """The best spec config (None: nothing measured that says)."""
    g: int | None
    decided: bool
    how: Literal["measured", "inferred", "open"]
    """measured here; inferred from the anchors either side (same best g); open."""
    contenders: list[str] = Field(default_factory=list)
    """Other configs not yet beaten with confidence (a tie or an open interval)."""
    ratio_to_runner_up: float | None = None
    ci_95: tuple[float, float] | None = None


class StopPaying(BaseModel):
    """Answer (b): the first grid concurrency where the best spec config does not beat Off."""

    model_config = ConfigDict(frozen=True)

    first_not_paying: int | None
    """None: spec pays at every measured concurrency up to the grid's largest."""
    last_paying: int | None
    """None: spec does not pay at the smallest concurrency (it never pays)."""
    decided: bool
    off_interactivity: float | None = None
    """Off's interactivity (tok/s/user) at ``first_not_paying``."""
    ratio_at_first_not: float | None = None
    ci_at_first_not: tuple[float, float] | None = None
    note: str = ""


class TargetRatio(BaseModel):
    """Answer (c) at one target interactivity."""

    model_config = ConfigDict(frozen=True)

    target: float
    ratio: float | None
    """spec/off throughput per GPU along the frontiers; None when a side cannot reach it."""
    ci_95: tuple[float, float] | None
    usd_per_mtok_ratio: float | None
    """spec/off $/M tokens (same hardware and price: 1/ratio)."""
    verdict: Literal["spec", "off", "tie", "unreachable"]
    decided: bool


class Answers(BaseModel):
    model_config = ConfigDict(frozen=True)

    workload: str
    best: list[BestDepth]
    stop: StopPaying
    targets: list[TargetRatio]
    points: int

    @property
    def open(self) -> list[str]:
        """The answers not decided at 95 %, in words."""
        out = [f"best g at C={b.concurrency}" for b in self.best if not b.decided]
        if not self.stop.decided:
            out.append("where spec stops paying")
        out += [f"spec/off at {t.target:g} tok/s/user" for t in self.targets if not t.decided]
        return out


def _interval(ci: tuple[float, float] | None) -> str:
    return "" if ci is None else f", 95 % CI {ci[0]:.2f}–{ci[1]:.2f}×"


def describe_answers(a: Answers) -> list[str]:
    """The three answers of one workload in words, for the top of compare's output and page:
    best g per concurrency, where spec stops paying, spec/off at the targets, what is open."""
    name = a.workload or "the workload"
    best = []
    for b in a.best:
        if b.g is None:
            best.append(f"C={b.concurrency} open")
            continue
        how = "" if b.how == "measured" else f" ({b.how})"
        tied = f" (vs {', '.join(b.contenders)})" if b.contenders and not b.decided else ""
        best.append(f"C={b.concurrency} g={b.g}{how}{tied}")
    lines = [f"{name}: best g per concurrency: " + "; ".join(best) + "."]
    stop = a.stop
    if stop.first_not_paying is None and stop.last_paying is not None:
        where = "spec pays at every measured concurrency"
    elif stop.last_paying is None:
        where = "spec does not pay even at the lowest concurrency"
    else:
        at = (
            ""
            if stop.off_interactivity is None
            else f", Off at {stop.off_interactivity:.3g} tok/s/user"
        )
        ratio = (
            ""
            if stop.ratio_at_first_not is None
            else f"; spec/off {stop.ratio_at_first_not:.2f}×{_interval(stop.ci_at_first_not)}"
        )
        where = (
            f"spec stops paying at C={stop.first_not_paying}{at}{ratio} (last paying "
            f"C={stop.last_paying})"
        )
    lines.append(f"{name}: {where}{'' if stop.decided else ' — not decided at 95 %'}.")
    for t in a.targets:
        if t.ratio is None:
            lines.append(f"{name}: at {t.target:g} tok/s/user a side cannot reach the target.")
            continue
        verdict = {"spec": "spec wins", "off": "off wins", "tie": "a tie", "unreachable": ""}
        lines.append(
            f"{name}: at {t.target:g} tok/s/user spec/off is {t.ratio:.2f}× in tok/s/GPU"
            f"{_interval(t.ci_95)} ({verdict[t.verdict]}"
            f"{'' if t.decided else ', not decided at 95 %'})."
        )
    if a.open:
        lines.append(f"{name}: still open: {', '.join(a.open)}.")
    return lines


def mid_concurrency(ladder: list[int], lo: int, hi: int) -> int | None:
    """The middle grid concurrency between ``lo`` and ``hi`` (None: they are neighbours)."""
    i, j = ladder.index(lo), ladder.index(hi)
    return None if j - i < 2 else ladder[(i + j) // 2]
