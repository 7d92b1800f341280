"""Acceptance scraping: real llama.cpp /metrics text, vLLM/SGLang/TRT-LLM samples, the reader."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from specscope.engines.acceptance import AcceptanceError, AcceptanceReader, CounterResetError
from specscope.engines.llamacpp import (
    counts_from_records,
    counts_from_timings,
    timings_draft_counts,
)
from specscope.engines.prometheus import SpecCounters, delta, parse_spec_counters
from specscope.engines.sglang import SERVER_INFO_SOURCE as SGLANG_SOURCE
from specscope.engines.sglang import counts_from_sglang_server_info
from specscope.engines.trtllm import counts_from_trtllm_iteration_stats
from specscope.schema import RequestRecord

DATA = Path(__file__).parents[1] / "data" / "metrics"


def _text(name: str) -> str:
    return (DATA / name).read_text()


def _json(name: str) -> object:
    return json.loads((DATA / name).read_text())


# -- llama.cpp (real scrapes) ---------------------------------------------------------------


def test_llamacpp_real_before_has_zero_counters_and_no_positions() -> None:
    before = parse_spec_counters(_text("llamacpp_ngram_mod_before.txt"))
    assert before == SpecCounters(
        engine="llamacpp", drafts=0.0, draft_tokens=0.0, accepted_tokens=0.0
    )


def test_llamacpp_real_window_delta() -> None:
    # Three prompts; their timings say drafted 24+29+8 = 61, accepted 22+29+0 = 51.
    # /metrics says 8 verify steps, per position [7,7,7,7,7,6,5,5] (sums to 51).
    # AL = 1 + 51/8 = 7.375; rate = 51/61 = 0.8361.
    counts = delta(
        parse_spec_counters(_text("llamacpp_ngram_mod_before.txt")),
        parse_spec_counters(_text("llamacpp_ngram_mod_after.txt")),
    )
    assert (counts.drafts, counts.draft_tokens, counts.accepted_tokens) == (8, 61, 51)
    assert counts.accepted_per_position == [7, 7, 7, 7, 7, 6, 5, 5]
    assert counts.acceptance_length == pytest.approx(7.375)
    assert counts.draft_acceptance_rate == pytest.approx(51 / 61)
    assert counts.source == "prometheus:llamacpp"
    timings = _json("llamacpp_ngram_mod_timings.json")
    assert isinstance(timings, list)
    by_timings = counts_from_timings(timings_draft_counts(t) for t in timings)
    assert (by_timings.draft_tokens, by_timings.accepted_tokens) == (61, 51)


def test_llamacpp_real_delta_between_two_nonzero_scrapes() -> None:
    # mid: drafts 3, drafted 22, accepted 22, positions [3,3,3,3,3,3,2,2]
    # end: drafts 5, drafted 38, accepted 32, positions [5,5,4,4,4,4,3,3]
    # window = one request whose timings say draft_n 16, draft_n_accepted 10:
    # drafts 2, drafted 16, accepted 10, positions [2,2,1,1,1,1,1,1]; AL = 1 + 10/2 = 6.0
    counts = delta(
        parse_spec_counters(_text("llamacpp_ngram_mod_mid.txt")),
        parse_spec_counters(_text("llamacpp_ngram_mod_end.txt")),
    )
    assert (counts.drafts, counts.draft_tokens, counts.accepted_tokens) == (2, 16, 10)
    assert counts.accepted_per_position == [2, 2, 1, 1, 1, 1, 1, 1]
    assert counts.acceptance_length == pytest.approx(6.0)
    timing = _json("llamacpp_ngram_mod_end_timings.json")
    assert isinstance(timing, dict)
    assert timings_draft_counts(timing) == (16, 10)


def test_llamacpp_real_spec_off_gives_zero_counts_and_no_al() -> None:
    off = parse_spec_counters(_text("llamacpp_spec_off.txt"))
    counts = delta(off, off)
    assert (counts.drafts, counts.draft_tokens, counts.accepted_tokens) == (0, 0, 0)
    assert counts.acceptance_length is None and counts.draft_acceptance_rate is None


def test_llamacpp_real_timings_without_drafts() -> None:
    timing = _json("llamacpp_timings_no_draft.json")
    assert isinstance(timing, dict)
    assert timings_draft_counts(timing) == (None, None)
    assert timings_draft_counts(None) == (None, None)


# -- vLLM (documented format, two data-parallel ranks) --------------------------------------


def test_vllm_sums_label_sets_and_ignores_created_and_other_metrics() -> None:
    before = parse_spec_counters(_text("vllm_spec_before.txt"))
    # rank 0 + rank 1: drafts 100+50, drafted 300+150, accepted 210+90, positions [130,100,70]
    assert before == SpecCounters(
        engine="vllm",
        drafts=150.0,
        draft_tokens=450.0,
        accepted_tokens=300.0,
        accepted_per_position={0: 130.0, 1: 100.0, 2: 70.0},
    )


def test_vllm_window_delta() -> None:
    # after sums: drafts 400+250 = 650, drafted 1200+750 = 1950, accepted 870+480 = 1350,
    # positions [360+210, 290+160, 220+110] = [570, 450, 330].
    # delta: drafts 500, drafted 1500, accepted 1050, positions [440, 350, 260].
    # AL = 1 + 1050/500 = 3.1; rate = 1050/1500 = 0.7.
    counts = delta(
        parse_spec_counters(_text("vllm_spec_before.txt")),
        parse_spec_counters(_text("vllm_spec_after.txt")),
    )
    assert (counts.drafts, counts.draft_tokens, counts.accepted_tokens) == (500, 1500, 1050)
    assert counts.accepted_per_position == [440, 350, 260]
    assert counts.acceptance_length == pytest.approx(3.1)
    assert counts.draft_acceptance_rate == pytest.approx(0.7)
    assert counts.source == "prometheus:vllm"


def test_vllm_spec_off_exposes_nothing() -> None:
    off = parse_spec_counters(_text("vllm_spec_off.txt"))
    assert not off.found
    counts = delta(off, off)
    assert counts.drafts is None and counts.acceptance_length is None
    assert counts.source == "prometheus"


def test_vllm_names_without_total_suffix_also_parse() -> None:
    text = "vllm:spec_decode_num_drafts 4\nvllm:spec_decode_num_accepted_tokens 6\n"
    counts = parse_spec_counters(text)
    assert (counts.drafts, counts.accepted_tokens) == (4.0, 6.0)


# -- errors ---------------------------------------------------------------------------------


def test_counter_going_backwards_means_a_restart() -> None:
    with pytest.raises(CounterResetError, match="drafts went backwards \\(650 → 5\\)"):
        delta(
            parse_spec_counters(_text("vllm_spec_after.txt")),
            SpecCounters(engine="vllm", drafts=5.0, draft_tokens=9.0, accepted_tokens=3.0),
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vllm:spec_decode_num_drafts_total{a= 1\n", "could not parse"),
        (
            'vllm:spec_decode_num_accepted_tokens_per_pos_total{pos="0"} 3\n',
            "no numeric 'position' label",
        ),
        (
            "vllm:spec_decode_num_drafts_total 1\nllamacpp:spec_decode_num_drafts_total 1\n",
            "mixes spec counters",
        ),
    ],
)
def test_bad_metrics_text(text: str, message: str) -> None:
    with pytest.raises(AcceptanceError, match=message):
        parse_spec_counters(text)


def test_scrapes_from_different_engines_are_refused() -> None:
    with pytest.raises(AcceptanceError, match="different engines"):
        delta(SpecCounters(engine="vllm", drafts=1.0), SpecCounters(engine="llamacpp", drafts=2.0))


@given(
    before=st.lists(st.integers(0, 10_000), min_size=3, max_size=3),
    step=st.lists(st.integers(0, 10_000), min_size=3, max_size=3),
)
def test_delta_is_after_minus_before(before: list[int], step: list[int]) -> None:
    b = SpecCounters(
        engine="vllm",
        drafts=float(before[0]),
        draft_tokens=float(before[1]),
        accepted_tokens=float(before[2]),
    )
    a = SpecCounters(
        engine="vllm",
        drafts=float(before[0] + step[0]),
        draft_tokens=float(before[1] + step[1]),
        accepted_tokens=float(before[2] + step[2]),
    )
    counts = delta(b, a)
    assert [counts.drafts, counts.draft_tokens, counts.accepted_tokens] == step


# -- SGLang ---------------------------------------------------------------------------------


def test_sglang_server_info_reported_al() -> None:
    info = _json("sglang_server_info.json")
    assert isinstance(info, dict)
    counts = counts_from_sglang_server_info(info)
    assert counts.reported_acceptance_length == pytest.approx(2.84)
    assert counts.acceptance_length == pytest.approx(2.84)  # falls back to the reported AL
    assert counts.drafts is None and counts.source == SGLANG_SOURCE == "sglang:server_info"


def test_sglang_ranks_are_averaged_and_off_gives_none() -> None:
    two = {"internal_states": [{"avg_spec_accept_length": 2.8}, {"avg_spec_accept_length": 3.0}]}
    assert counts_from_sglang_server_info(two).reported_acceptance_length == pytest.approx(2.9)
    off = _json("sglang_server_info_off.json")
    assert isinstance(off, dict)
    assert counts_from_sglang_server_info(off).acceptance_length is None
    legacy = {"avg_spec_accept_length": 1.9}
    assert counts_from_sglang_server_info(legacy).reported_acceptance_length == 1.9


# -- TensorRT-LLM ---------------------------------------------------------------------------


def test_trtllm_iteration_stats_sum() -> None:
    # iterations with drafts: (12 drafted, 7 accepted, 4 requests), (9, 6, 3) given as a JSON
    # string; the context-only iteration and the one without stats are skipped.
    # drafts 7, drafted 21, accepted 13 → AL = 1 + 13/7 = 2.857, rate = 13/21 = 0.619
    stats = _json("trtllm_iteration_stats.json")
    assert isinstance(stats, list)
    counts = counts_from_trtllm_iteration_stats(stats)
    assert (counts.drafts, counts.draft_tokens, counts.accepted_tokens) == (7, 21, 13)
    assert counts.acceptance_length == pytest.approx(1 + 13 / 7)
    assert counts.draft_acceptance_rate == pytest.approx(13 / 21)


# -- per-response timings -------------------------------------------------------------------


def test_records_sum_only_timed_successful_requests() -> None:
    records = [
        RequestRecord(index=0, send_s=0.0, draft_tokens=20, accepted_tokens=15),
        RequestRecord(index=1, send_s=0.1, draft_tokens=10, accepted_tokens=5),
        RequestRecord(index=2, send_s=0.2, warmup=True, draft_tokens=99, accepted_tokens=99),
        RequestRecord(index=3, send_s=0.3, error="boom", draft_tokens=50, accepted_tokens=50),
        RequestRecord(index=4, send_s=0.4),  # nothing drafted: fields absent
    ]
    counts = counts_from_records(records)
    # 20 + 10 drafted, 15 + 5 accepted → rate 20/30; no verify-step count, so no AL
    assert (counts.draft_tokens, counts.accepted_tokens) == (30, 20)
    assert counts.draft_acceptance_rate == pytest.approx(2 / 3)
    assert counts.acceptance_length is None
    assert counts.source == "timings:llamacpp"


# -- the reader -----------------------------------------------------------------------------


def _client(*bodies: object, status: int = 200) -> httpx.AsyncClient:
    queue = list(bodies)

    def handler(request: httpx.Request) -> httpx.Response:
        body = queue.pop(0)
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_reader_prometheus_window() -> None:
    client = _client(_text("llamacpp_ngram_mod_mid.txt"), _text("llamacpp_ngram_mod_end.txt"))
    reader = AcceptanceReader("prometheus", "http://x/", "/metrics", client=client)
    assert reader.url == "http://x/metrics"
    await reader.begin()
    counts = await reader.end()
    assert counts is not None and (counts.drafts, counts.accepted_tokens) == (2, 10)


async def test_reader_end_before_begin_is_an_error() -> None:
    reader = AcceptanceReader("prometheus", "http://x", client=_client("x"))
    with pytest.raises(AcceptanceError, match="before begin"):
        await reader.end()


async def test_reader_sglang_and_trtllm_and_timings_and_none() -> None:
    sglang = AcceptanceReader(
        "sglang_server_info",
        "http://x",
        "/server_info",
        client=_client(_json("sglang_server_info.json")),
        fresh_server=True,
    )
    await sglang.begin()
    counts = await sglang.end()
    assert counts is not None and counts.reported_acceptance_length == pytest.approx(2.84)

    stats = _json("trtllm_iteration_stats.json")
    assert isinstance(stats, list)
    # begin drains a stale iteration; poll and end each collect half of the window
    stale = [
        {
            "specDecodingStats": {
                "numDraftTokens": 50,
                "numAcceptedTokens": 50,
                "numRequestsWithDraftTokens": 5,
            }
        }
    ]
    trt = AcceptanceReader(
        "trtllm_iter_stats", "http://x", client=_client(stale, stats[:2], stats[2:])
    )
    await trt.begin()
    await trt.poll()
    counts = await trt.end()
    assert counts is not None and (counts.drafts, counts.draft_tokens) == (7, 21)

    timings = AcceptanceReader("timings", "http://x", client=_client())
    counts = await timings.end(
        [RequestRecord(index=0, send_s=0, draft_tokens=4, accepted_tokens=3)]
    )
    assert counts is not None and counts.accepted_tokens == 3

    assert await AcceptanceReader("none", "http://x", client=_client()).end() is None


async def test_reader_http_error_explains_metrics_flag() -> None:
    reader = AcceptanceReader("prometheus", "http://x", client=_client("nope", status=501))
    # begin keeps going (per-request counts may still come); end says why there are none
    await reader.begin()
    with pytest.raises(
        AcceptanceError, match=r"HTTP 501; for llama\.cpp start the server with --metrics"
    ):
        await reader.end()
