"""The adaptive sweep's decision core (``sweep.adaptive``): pure functions over measured points,
checked with hand-made cells and with the step-model simulator (``sweep.adaptive.sim``)."""

from __future__ import annotations

import pytest

from specscope.sweep.adaptive.answers import answers
from specscope.sweep.adaptive.cells import pooled_noise
from specscope.sweep.adaptive.model import Arm, Candidates, Observation
from specscope.sweep.adaptive.propose import propose
from specscope.sweep.adaptive.sim import (
    agree,
    run_adaptive,
    run_full,
    standard_profiles,
    truth_answers,
)

OFF = Arm(label="off:none", family="off", g=0, off=True)
SPEC = [Arm(label=f"s:g{g}", family="s", g=g) for g in (1, 2, 3)]
CANDS = Candidates(
    arms=[OFF, *SPEC], workloads=["w"], concurrencies=[1, 2, 4, 8, 16], max_repeats=3
)


def _obs(arm: str, c: int, tput: float, repeat: int = 0, x: float | None = None) -> Observation:
    return Observation(
        arm=arm,
        workload="w",
        concurrency=c,
        repeat=repeat,
        throughput_per_gpu=tput,
        interactivity=x if x is not None else 100.0 / c,
    )


def test_first_points_are_the_coarse_ladder_of_off_and_the_middle_g() -> None:
    assert CANDS.coarse_ladder() == [1, 4, 16]
    assert CANDS.start_arm().label == "s:g2"
    obs: list[Observation] = []
    seen = []
    for _ in range(12):
        p = propose(CANDS, obs, {})
        assert p is not None and p.question == "coarse"
        seen.append((p.arm, p.concurrency, p.repeat))
        obs.append(_obs(p.arm, p.concurrency, 100.0 + len(obs), p.repeat))
    assert sorted(seen) == sorted(
        (a, c, r) for a in ("off:none", "s:g2") for c in (1, 4, 16) for r in (0, 1)
    )
    nxt = propose(CANDS, obs, {})
    assert nxt is not None and nxt.question == "best_g"


def test_pooled_noise_is_the_log_sd_over_repeated_cells() -> None:
    obs = [_obs("off:none", 1, 100.0, 0), _obs("off:none", 1, 110.0, 1), _obs("s:g1", 1, 50.0)]
    noise = pooled_noise(obs)
    assert noise is not None and noise.df == 1.0
    assert noise.rel_sd == pytest.approx(abs(0.0953101798) / 2**0.5, rel=1e-6)


def test_clear_answers_are_decided_and_a_worse_neighbour_is_dropped() -> None:
    # spec g2 is 1.5× off at every C, g1 and g3 are 1.2×: with 1 % noise everything is decided
    obs = []
    for c in CANDS.concurrencies:
        for r, f in enumerate((0.99, 1.01)):
            obs.append(_obs("off:none", c, 100.0 * c * f, r))
            obs.append(_obs("s:g2", c, 150.0 * c * f, r))
            obs.append(_obs("s:g1", c, 120.0 * c * f, r))
            obs.append(_obs("s:g3", c, 120.0 * c * f, r))
    (found,) = answers(CANDS, obs, {"w": [10.0]})
    assert [b.g for b in found.best] == [2] * 5
    assert all(b.decided for b in found.best)
    assert found.stop.first_not_paying is None and found.stop.decided
    assert found.targets[0].verdict == "spec" and found.targets[0].decided
    assert found.open == []
    assert propose(CANDS, obs, {"w": [10.0]}) is None


def test_crossover_is_bisected_between_paying_and_not_paying_anchors() -> None:
    # spec (g2 best) pays 1.5× at C ≤ 2, 0.7× from C = 4: coarse anchors 1, 4, 16
    def ratio(c: int) -> float:
        return 1.5 if c <= 2 else 0.7

    obs = []
    for c in (1, 4, 16):
        for r in (0, 1):
            obs.append(_obs("off:none", c, 100.0 * c * (1 + 0.01 * r), r))
            obs.append(_obs("s:g2", c, 100.0 * c * ratio(c) * (1 + 0.01 * r), r))
            obs.append(_obs("s:g1", c, 90.0 * c * ratio(c) * (1 + 0.01 * r), r))
            obs.append(_obs("s:g3", c, 90.0 * c * ratio(c) * (1 + 0.01 * r), r))
    (found,) = answers(CANDS, obs, {})
    assert (found.stop.last_paying, found.stop.first_not_paying) == (1, 4)
    assert not found.stop.decided  # C = 2 lies between, unmeasured
    p = propose(CANDS, obs, {})
    assert p is not None and p.question == "crossover" and p.concurrency == 2


def test_best_g_is_inferred_between_anchors_that_agree() -> None:
    obs = []
    for c in (1, 16):
        for r in (0, 1):
            for arm, f in (("off:none", 1.0), ("s:g1", 1.1), ("s:g2", 1.3), ("s:g3", 1.2)):
                obs.append(_obs(arm, c, 100.0 * c * f * (1 + 0.005 * r), r))
    (found,) = answers(CANDS, obs, {})
    by_c = {b.concurrency: b for b in found.best}
    assert by_c[4].how == "inferred" and by_c[4].g == 2 and by_c[4].decided


def test_no_interval_with_single_repeats_leaves_answers_open() -> None:
    obs = [_obs(a.label, 1, 100.0 + i) for i, a in enumerate(CANDS.arms)]
    (found,) = answers(CANDS, obs, {})
    assert not found.stop.decided
    assert "where spec stops paying" in found.open


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_simulated_profiles_use_a_third_of_the_grid(index: int) -> None:
    profile = standard_profiles(0.02)[index]
    budget = profile.cands.grid_points // 3
    for seed in range(3):
        run = run_adaptive(profile, seed, budget_points=budget)
        assert run.points <= budget
        assert len(run.log) == run.points


def test_simulated_answers_match_the_truth_at_low_noise() -> None:
    profile = standard_profiles(0.005)[1]  # stops paying at C = 16, best g 5 → 1
    truth = truth_answers(profile)
    assert truth.stop.first_not_paying == 16
    run = run_adaptive(profile, 0, budget_points=profile.cands.grid_points // 3)
    assert agree(run.answers, truth, profile).all
    full = run_full(profile, 0)
    assert full.points == profile.cands.grid_points
    assert agree(full.answers, truth, profile).all


def _coarse_done(extra: list[Observation]) -> list[Observation]:
    obs = []
    for c in CANDS.coarse_ladder():
        for r in (0, 1):
            obs.append(_obs("off:none", c, 100.0 * c * (1 + 0.01 * r), r))
            obs.append(_obs("s:g2", c, 130.0 * c * (1 + 0.01 * r), r))
    return obs + extra


def test_a_left_out_cell_is_not_proposed_again_and_the_climb_walks_past_it() -> None:
    obs = _coarse_done([])
    first = propose(CANDS, obs, {})
    assert first is not None and first.question == "best_g"
    cell = (first.arm, "w", first.concurrency)
    nxt = propose(CANDS, obs, {}, left_out={cell})
    assert nxt is not None
    assert (nxt.arm, nxt.concurrency) != (first.arm, first.concurrency)
    # every spec g left out at C = 1 but g2: the climb there is complete, nothing asked at C = 1
    gone = {("s:g1", "w", 1), ("s:g3", "w", 1)}
    seen = set()
    for _ in range(20):
        p = propose(CANDS, obs, {}, left_out=gone)
        if p is None:
            break
        seen.add((p.arm, p.concurrency))
        obs.append(_obs(p.arm, p.concurrency, 100.0 * p.concurrency, p.repeat))
    assert ("s:g1", 1) not in seen and ("s:g3", 1) not in seen


def test_repeats_go_to_the_widest_interval_first() -> None:
    # g2 vs g3 stay undecided at C = 1 and C = 16; at C = 16 g3 was measured once (the wider
    # interval), at C = 1 twice: the next repeat goes to C = 16
    obs = []
    reps = {1: {"s:g1": 2, "s:g2": 3, "s:g3": 2}, 16: {"s:g1": 1, "s:g2": 2, "s:g3": 1}}
    for c in CANDS.concurrencies:
        for r in (0, 1):
            obs.append(_obs("off:none", c, 100.0 * c * (1 + 0.02 * r), r))
        close = 1.48 if c in reps else 1.2  # g3 is clearly worse elsewhere
        for arm, f in (("s:g1", 0.5), ("s:g2", 1.5), ("s:g3", close)):
            for r in range(reps.get(c, {}).get(arm, 2)):
                spread = 0.0 if c in reps else 0.02  # the pooled noise serves C = 1, 16
                obs.append(_obs(arm, c, 100.0 * c * f * (1 + spread * (r % 2)), r))
    p = propose(CANDS, obs, {})
    assert p is not None and p.question == "repeat"
    assert (p.arm, p.concurrency) == ("s:g3", 16)


def test_agreement_within_the_references_own_interval() -> None:
    profile = standard_profiles(0.04)[0]
    full = run_full(profile, 0).answers
    b = full.best[0]
    assert b.contenders, "a 4 % noise grid leaves g4 vs g5 open at C=1"
    other = full.model_copy(
        update={"best": [b.model_copy(update={"arm": b.contenders[-1]}), *full.best[1:]]}
    )
    loose = agree(full, other, profile, within_reference=True)
    assert loose.best_g
    strict = agree(full, other, profile, tolerant=False)
    assert not strict.best_g


def test_profile_names_say_what_the_noise_free_model_does() -> None:
    for profile in standard_profiles(0.02):
        truth = truth_answers(profile)
        if "stops at C=" in profile.name or "stops paying at C=" in profile.name:
            c = int(profile.name.rsplit("C=", 1)[1].split()[0].rstrip(","))
            assert truth.stop.first_not_paying == c, profile.name
        if "best g " in profile.name:
            first, last = profile.name.split("best g ")[1].split(",")[0].split("→")
            assert (truth.best[0].g, truth.best[-1].g) == (int(first), int(last)), profile.name


def test_pooled_noise_carries_interactivity_noise_along_the_slope() -> None:
    # one cell, repeats (y, x) = (100, 50) and (110, 55): both axes move by the same factor, so
    # ln y and ln x deviate by ±ln(1.1)/2 = ±0.047655 together: sd 0.067394 each, covariance
    # 0.004542; read at a fixed x on a curve of slope −1 (ε = 1) the sd doubles to 0.134788
    from specscope.sweep.adaptive.cells import pooled_noise

    obs = [
        Observation(arm="a", workload="w", concurrency=1, repeat=r, throughput_per_gpu=y,
                    interactivity=x)
        for r, (y, x) in enumerate([(100.0, 50.0), (110.0, 55.0)])
    ]  # fmt: skip
    noise = pooled_noise(obs)
    assert noise is not None
    assert (noise.rel_sd, noise.rel_sd_x, noise.cov) == pytest.approx(
        (0.067394, 0.067394, 0.004542), abs=1e-6
    )
    assert noise.at_fixed_interactivity(0.0) == pytest.approx(0.067394, abs=1e-6)
    assert noise.at_fixed_interactivity(1.0) == pytest.approx(0.134788, abs=1e-6)


def test_a_spec_family_never_measured_keeps_the_answers_open_and_is_proposed() -> None:
    # The real CPU run of benchmarks/adaptive_real.py: the ladder measured off and the draft
    # family only, draft lost clearly, and "spec does not pay" was declared decided while the
    # n-gram family (which paid, 1.01–1.09×) was never measured. Off 100 at every C, draft g=1
    # 60 (two repeats each, 1 % apart): draft loses with confidence, n-gram is unseen.
    ngram = Arm(label="n:g4", family="n", g=4)
    cands = Candidates(
        arms=[OFF, SPEC[0], ngram], workloads=["w"], concurrencies=[1, 2, 4], max_repeats=2
    )
    obs = [
        _obs(arm, c, tput * (1 + 0.01 * r), repeat=r, x=10.0 / c * (1 + 0.01 * r))
        for arm, tput in ((OFF.label, 100.0), (SPEC[0].label, 60.0))
        for c in (1, 2, 4)
        for r in (0, 1)
    ]
    (found,) = answers(cands, obs, {"w": [5.0]})
    assert found.stop.first_not_paying == 1 and not found.stop.decided
    assert all(not b.decided for b in found.best)
    assert found.targets[0].verdict == "off" and not found.targets[0].decided
    nxt = propose(cands, obs, {"w": [5.0]})
    assert nxt is not None and nxt.arm == "n:g4"
