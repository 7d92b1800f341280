"""Measured points reduced to what the step model needs: a step time per point.

Each measured point gives a step time: t_off = TPOT for an off point, t_spec = TPOT × tokens per
step for a spec point. TPOT is the mean over requests when the point has it: the acceptance
counters cover the whole window, and mean TPOT × window-wide tokens per step is exactly the step
time when every request decodes the same number of tokens (the median is not). Tokens per step
count every decode step: a drafter that proposes variable lengths, or nothing (llama.cpp's n-gram
drafters), leaves steps without a draft, which emit one token and verify one; the engine's AL
(1 + accepted / drafts) skips them. So steps = drafts + (decoded − drafts − accepted), tokens per
step = decoded / steps, and the pass verifies 1 + drafted / steps tokens per sequence on average
(:func:`step_accounting`). Repeats of one measured config are merged to their median step time
(:func:`merge_repeats`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from specscope.schema import AcceptanceCounts, Point


class Observation(BaseModel):
    """One measured point reduced to what the step model needs."""

    model_config = ConfigDict(frozen=True)

    point_id: str
    run_id: str
    spec_method: str
    concurrency: int
    isl: int
    osl: int
    draft_depth: int
    verify_tokens: float
    """Tokens per sequence in an average decode pass: 1 + drafted tokens / decode steps."""
    acceptance_length: float
    """Tokens emitted per decode step (bonus included), over every step of the window: steps
    that carried no draft (an n-gram drafter finds nothing to propose) count, emitting one."""
    reported_acceptance_length: float
    """The engine's AL, 1 + accepted / drafts (steps with a draft only), for display."""
    tpot_s: float
    """Mean TPOT when the point has it (it pairs with window-wide counts), else the median."""
    config_key: str = ""
    """Run and config of the point: repeats of one measurement share it."""
    repeats: int = 1
    """Repeats merged into this observation (see :func:`merge_repeats`)."""
    repeat_spread: float = 0.0
    """Slowest / fastest step time among those repeats, minus 1."""

    @property
    def context_len(self) -> float:
        return self.isl + self.osl / 2.0

    @property
    def step_time_s(self) -> float:
        return self.tpot_s * self.acceptance_length


def decode_tokens(point: Point) -> float | None:
    """Tokens the timed requests decoded after their first: output tokens − finished requests.

    Output tokens come from the output throughput × duration × decode GPUs (the timed window,
    as the acceptance counters are); without those, finished requests × (osl − 1).
    """
    cfg = point.config
    n_ok = (point.n_requests or 0) - (point.n_failed or 0)
    if n_ok <= 0:
        return None
    gpus = cfg.n_decode_gpus or cfg.n_gpus
    if point.output_throughput_per_gpu is not None and point.duration_s:
        output = point.output_throughput_per_gpu * point.duration_s * gpus
    else:
        output = float(n_ok * cfg.osl)
    decoded = output - n_ok
    return decoded if decoded > 0 else None


def step_accounting(
    counts: AcceptanceCounts, decoded: float | None, depth: int
) -> tuple[float, float] | None:
    """(tokens emitted per step, tokens per sequence per pass) from window-wide counts.

    Steps = drafts + steps without a draft, where the latter emitted the decoded tokens that
    draft steps did not: plain = decoded − drafts − accepted. Worked: 1016 decoded tokens,
    179 drafts of 354 tokens, 332 accepted → 505 plain steps, 684 steps, 1016 / 684 = 1.49
    tokens per step and 1 + 354 / 684 = 1.52 tokens per pass (the engine's AL is 2.85).
    Without a decoded-token count every step is taken to carry a draft (AL, 1 + drafted /
    drafts, or g + 1 when the draft tokens are not counted).
    """
    al = counts.acceptance_length
    if al is None:
        return None
    if not counts.drafts or counts.accepted_tokens is None:
        return al, float(depth + 1)
    draft_tokens = counts.draft_tokens or counts.drafts * depth
    steps = float(counts.drafts)
    if decoded is not None:
        steps += max(decoded - counts.drafts - counts.accepted_tokens, 0.0)
    emitted = counts.drafts + counts.accepted_tokens + (steps - counts.drafts)
    return emitted / steps, 1.0 + draft_tokens / steps


def observations(points: Sequence[Point]) -> tuple[list[Observation], list[str]]:
    """The usable points as observations, and one line per point left out (and why)."""
    kept: list[Observation] = []
    skipped: list[str] = []
    for p in points:
        cfg = p.config
        label = f"{p.point_id} ({cfg.spec_method}, c={cfg.concurrency})"
        if p.status != "ok":
            skipped.append(f"{label}: status {p.status}")
            continue
        tpot = p.tpot.mean_s if p.tpot.mean_s is not None else p.tpot.median_s
        if tpot is None or not tpot > 0:
            skipped.append(f"{label}: no TPOT")
            continue
        conc = cfg.concurrency
        if conc is None and p.measured_concurrency is not None:
            conc = max(1, round(p.measured_concurrency))
        if conc is None:
            skipped.append(f"{label}: no concurrency (open-loop points are not used)")
            continue
        depth = 0 if cfg.is_off else (cfg.draft_depth or 0)
        al = reported = verify = 1.0
        if not cfg.is_off:
            counts = p.acceptance
            accounted = (
                step_accounting(counts, decode_tokens(p), depth)
                if counts is not None and depth >= 1
                else None
            )
            if accounted is None or counts is None or counts.acceptance_length is None:
                skipped.append(f"{label}: spec point without acceptance length or draft depth")
                continue
            al, verify = accounted
            reported = counts.acceptance_length
        kept.append(
            Observation(
                point_id=p.point_id,
                run_id=p.run_id,
                spec_method=cfg.spec_method,
                concurrency=conc,
                isl=cfg.isl,
                osl=cfg.osl,
                draft_depth=depth,
                verify_tokens=verify,
                acceptance_length=al,
                reported_acceptance_length=reported,
                tpot_s=tpot,
                config_key=f"{p.run_id}|{cfg.model_dump_json()}",
            )
        )
    return kept, skipped


def merge_repeats(obs: Sequence[Observation]) -> list[Observation]:
    """One observation per measured config: the repeat with the median step time.

    For an even number of repeats the faster of the two middle ones is taken: another process
    on the machine only ever slows a run down, never speeds it up. Worked: step times 38.9 and
    283.5 ms (a repeat that shared the CPU) → 38.9 ms, spread 283.5 / 38.9 − 1 = 629 %.
    """
    groups: dict[str, list[Observation]] = {}
    for o in obs:
        groups.setdefault(o.config_key or o.point_id, []).append(o)
    merged: list[Observation] = []
    for members in groups.values():
        ordered = sorted(members, key=lambda o: o.step_time_s)
        pick = ordered[(len(ordered) - 1) // 2]
        spread = ordered[-1].step_time_s / ordered[0].step_time_s - 1.0
        merged.append(pick.model_copy(update={"repeats": len(ordered), "repeat_spread": spread}))
    return merged
