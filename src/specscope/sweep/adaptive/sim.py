"""A simulated engine for the adaptive sweep: the roofline step model plus measurement noise.

A :class:`SimProfile` holds the noise-free throughput and interactivity of every (config,
concurrency) cell of a grid, from :func:`specscope.predict.step.operating_point` with the
Leviathan acceptance length E(a, g) = (1 − a^(g+1))/(1 − a). A measurement multiplies both by
one lognormal factor (a run that is faster is faster in both) and interactivity by a small
independent one. :func:`run_full` measures the whole grid; :func:`run_adaptive` lets
:func:`~specscope.sweep.adaptive.propose.propose` choose. No I/O; seeds make every run
reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from specscope.catalog import Catalog, load_catalog
from specscope.predict.deployment import build_deployment
from specscope.predict.roofline import Efficiency
from specscope.predict.step import operating_point
from specscope.sweep.adaptive.answers import answers
from specscope.sweep.adaptive.model import Answers, Arm, Candidates, Observation, Proposal
from specscope.sweep.adaptive.propose import propose
from specscope.tie import is_tie

CONCURRENCIES = [1, 2, 4, 8, 16, 32, 64, 128]
DRAFT_DEPTHS = [1, 2, 3, 4, 5]
WORKLOAD = "sim"


class SimProfile(BaseModel):
    """Noise-free cells of one simulated deployment, and its noise level."""

    model_config = ConfigDict(frozen=True)

    name: str
    cands: Candidates
    truth: dict[str, tuple[float, float]]
    """``"arm|C"`` → (throughput per GPU, interactivity)."""
    noise_cv: float
    targets: list[float]
    """Target interactivities (25/50/75 % of the noise-free band), shared by every run."""

    def cell(self, arm: str, c: int) -> tuple[float, float]:
        return self.truth[f"{arm}|{c}"]

    def measure(self, seed: int, arm: str, c: int, repeat: int) -> Observation:
        """Repeat ``repeat`` of cell (``arm``, ``c``) in the world of ``seed``: the same four
        numbers give the same measurement whichever sweep asks and in whatever order (the full
        grid and the adaptive sweep of one seed see one set of runs)."""
        y, x = self.cell(arm, c)
        labels = [a.label for a in self.cands.arms]
        rng = np.random.default_rng(
            [seed, labels.index(arm), self.cands.concurrencies.index(c), repeat]
        )
        common = math.exp(rng.normal(0.0, self.noise_cv))
        own = math.exp(rng.normal(0.0, self.noise_cv / 3.0))
        return Observation(
            arm=arm,
            workload=WORKLOAD,
            concurrency=c,
            repeat=repeat,
            throughput_per_gpu=y * common,
            interactivity=x * common * own,
        )


def _leviathan_al(a: float, g: int) -> float:
    """E(a, g), Leviathan's tokens per step (``g`` the formula's symbol for the draft depth)."""
    return (1.0 - a ** (g + 1)) / (1.0 - a)


def step_profile(
    name: str,
    *,
    model: str,
    acceptance: float,
    method: str = "ngram",
    draft_model: str | None = None,
    hardware: str = "h100",
    eta_f: float = 0.5,
    isl: int = 1024,
    osl: int = 256,
    noise_cv: float = 0.03,
    repeats: int = 3,
    catalog: Catalog | None = None,
) -> SimProfile:
    """A profile from the step model (``predict``) on a catalog model and hardware."""
    cat = catalog or load_catalog()
    dep = build_deployment(
        cat.hardware_spec(hardware, probe_cpu=False),
        cat.model_spec(model),
        precision="bf16",
        spec_method=method,
        max_context=isl + osl,
        draft_model=cat.model_spec(draft_model) if draft_model else None,
        efficiency=Efficiency(t0_s=0.002, eta_bw=0.7, eta_f=eta_f),
    )
    sm = dep.step_model
    off = Arm(label="off:none", family="off", g=0, off=True)
    arms = [off] + [
        Arm(label=f"spec:{method}-g{draft_depth}", family="spec", g=draft_depth)
        for draft_depth in DRAFT_DEPTHS
    ]
    truth: dict[str, tuple[float, float]] = {}
    for c in CONCURRENCIES:
        op = operating_point(sm, concurrency=c, isl=isl, osl=osl)
        truth[f"{off.label}|{c}"] = (op.throughput_per_gpu, op.interactivity)
        for arm in arms[1:]:
            op = operating_point(
                sm,
                concurrency=c,
                isl=isl,
                osl=osl,
                depth=arm.g,
                acceptance_length=_leviathan_al(acceptance, arm.g),
            )
            truth[f"{arm.label}|{c}"] = (op.throughput_per_gpu, op.interactivity)
    cands = Candidates(
        arms=arms, workloads=[WORKLOAD], concurrencies=CONCURRENCIES, max_repeats=repeats
    )
    xs_off = [truth[f"{off.label}|{c}"][1] for c in CONCURRENCIES]
    xs_spec = [truth[f"{a.label}|{c}"][1] for a in arms[1:] for c in CONCURRENCIES]
    lo, hi = max(min(xs_off), min(xs_spec)), min(max(xs_off), max(xs_spec))
    targets = [lo + f * (hi - lo) for f in (0.25, 0.5, 0.75)] if hi > lo else []
    return SimProfile(name=name, cands=cands, truth=truth, noise_cv=noise_cv, targets=targets)


def standard_profiles(noise_cv: float = 0.03) -> list[SimProfile]:
    """Four deployments whose answers differ (the issue's cases)."""
    cat = load_catalog()
    return [
        step_profile(
            "pays everywhere, best g 5→3",
            model="llama-3.1-8b",
            acceptance=0.75,
            noise_cv=noise_cv,
            catalog=cat,
        ),
        step_profile(
            "stops paying at C=16, best g 5→1",
            model="llama-3.1-8b",
            acceptance=0.6,
            eta_f=0.03,
            noise_cv=noise_cv,
            catalog=cat,
        ),
        step_profile(
            "never pays (weak draft model)",
            model="llama-3.1-70b",
            method="draft_model",
            draft_model="llama-3.1-8b",
            acceptance=0.1,
            osl=512,
            noise_cv=noise_cv,
            catalog=cat,
        ),
        step_profile(
            "draft model, best g 3→1, stops at C=64",
            model="llama-3.1-70b",
            method="draft_model",
            draft_model="llama-3.1-8b",
            acceptance=0.6,
            eta_f=0.1,
            osl=512,
            noise_cv=noise_cv,
            catalog=cat,
        ),
    ]


class SimRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    answers: Answers
    points: int
    log: list[Proposal]


def truth_answers(profile: SimProfile) -> Answers:
    """The answers from the noise-free cells (three identical repeats, no interval)."""
    obs = [
        Observation(
            arm=a.label,
            workload=WORKLOAD,
            concurrency=c,
            repeat=0,
            throughput_per_gpu=profile.cell(a.label, c)[0],
            interactivity=profile.cell(a.label, c)[1],
        )
        for a in profile.cands.arms
        for c in profile.cands.concurrencies
    ]
    return answers(profile.cands, obs, {WORKLOAD: profile.targets})[0]


def run_full(profile: SimProfile, seed: int) -> SimRun:
    """Every grid point, in the plan's order (repeat → config → concurrency)."""
    obs = [
        profile.measure(seed, a.label, c, r)
        for r in range(profile.cands.max_repeats)
        for a in profile.cands.arms
        for c in profile.cands.concurrencies
    ]
    found = answers(profile.cands, obs, {WORKLOAD: profile.targets})[0]
    return SimRun(answers=found, points=len(obs), log=[])


def run_adaptive(profile: SimProfile, seed: int, budget_points: int | None = None) -> SimRun:
    """Let the adaptive sweep choose until every answer is decided or the budget is spent."""
    obs: list[Observation] = []
    log: list[Proposal] = []
    budget = budget_points if budget_points is not None else profile.cands.grid_points
    targets = {WORKLOAD: profile.targets}
    while len(obs) < budget:
        nxt = propose(profile.cands, obs, targets, current_arm=obs[-1].arm if obs else None)
        if nxt is None:
            break
        log.append(nxt)
        obs.append(profile.measure(seed, nxt.arm, nxt.concurrency, nxt.repeat))
    return SimRun(answers=answers(profile.cands, obs, targets)[0], points=len(obs), log=log)


class Agreement(BaseModel):
    """Whether two runs gave the same answers (see :func:`agree` for what counts as same)."""

    model_config = ConfigDict(frozen=True)

    best_g: bool
    stop: bool
    targets: bool

    @property
    def all(self) -> bool:
        return self.best_g and self.stop and self.targets


def agree(
    a: Answers,
    b: Answers,
    profile: SimProfile,
    *,
    tolerant: bool = True,
    factor: float = 1.03,
    within_reference: bool = False,
) -> Agreement:
    """Compare ``b``'s answers with the reference ``a``'s.

    ``tolerant``: a difference where the noise-free values lie within ``factor`` of each other
    (best g's throughputs, best spec vs off at every concurrency between the two crossovers,
    the target ratio vs 1) counts as the same answer. ``within_reference`` also forgives
    a difference the reference itself leaves open at 95 %: ``b`` names one of the configs the
    reference has not beaten (its contenders), or the reference's target verdict is not
    decided."""
    best_ok = True
    for x, y in zip(a.best, b.best, strict=True):
        if x.arm == y.arm:
            continue
        if within_reference and y.arm is not None and y.arm in x.contenders:
            continue
        if not (tolerant and x.arm and y.arm):
            best_ok = False
            continue
        c = x.concurrency
        best_ok &= _within(profile.cell(x.arm, c)[0], profile.cell(y.arm, c)[0], factor)
    stop_ok = a.stop.first_not_paying == b.stop.first_not_paying
    if not stop_ok and tolerant:
        ladder = profile.cands.concurrencies
        big = max(ladder) * 2
        lo = min(a.stop.first_not_paying or big, b.stop.first_not_paying or big)
        hi = max(a.stop.first_not_paying or big, b.stop.first_not_paying or big)
        stop_ok = all(_true_ratio_ties(profile, c, factor) for c in ladder if lo <= c < hi)
    targets_ok = True
    truth = truth_answers(profile) if tolerant else None
    for i, (ta, tb) in enumerate(zip(a.targets, b.targets, strict=True)):
        if ta.verdict == tb.verdict or (within_reference and not ta.decided):
            continue
        t = None if truth is None else truth.targets[i].ratio
        targets_ok &= t is not None and abs(math.log(t)) < math.log(factor)
    return Agreement(best_g=best_ok, stop=stop_ok, targets=targets_ok)


def _within(a: float, b: float, factor: float) -> bool:
    return is_tie(a, b) if factor <= 1.01 else max(a, b) / min(a, b) < factor


def _true_ratio_ties(profile: SimProfile, c: int, factor: float) -> bool:
    off = profile.cands.off().label
    best = max(profile.cell(a.label, c)[0] for a in profile.cands.spec_arms())
    return _within(best, profile.cell(off, c)[0], factor)


def regret(found: Answers, profile: SimProfile) -> float:
    """Mean share of throughput lost over the grid's concurrencies by running the g the answers
    name instead of the noise-free best one."""
    lost = []
    for b in found.best:
        c = b.concurrency
        top = max(profile.cell(a.label, c)[0] for a in profile.cands.spec_arms())
        got = profile.cell(b.arm, c)[0] if b.arm is not None else 0.0
        lost.append(1.0 - got / top)
    return float(np.mean(lost))


def summary(runs: Sequence[SimRun]) -> tuple[float, int]:
    """Mean and most points over runs."""
    points = [r.points for r in runs]
    return float(np.mean(points)), max(points)
