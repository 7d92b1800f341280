"""Request bodies (specscope.client.protocols), SSE parsing and the token-attribution rule
(specscope.client.stream)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from specscope.client.protocols import build_body, endpoint_url
from specscope.client.stream import StreamError, StreamParser, attribute_tokens
from specscope.errors import UserError


def data(obj: dict[str, Any]) -> str:
    return "data: " + json.dumps(obj)


# --- bodies and URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "api", "url"),
    [
        ("http://h:8000", "completions", "http://h:8000/v1/completions"),
        ("http://h:8000/", "chat", "http://h:8000/v1/chat/completions"),
        ("http://h:8000/v1", "completions", "http://h:8000/v1/completions"),
        ("http://h:8080", "llamacpp", "http://h:8080/completion"),
        ("http://h:8080/v1", "llamacpp", "http://h:8080/v1/completion"),
    ],
)
def test_endpoint_url(base: str, api: Any, url: str) -> None:
    assert endpoint_url(base, api) == url


def test_completions_body_asks_for_usage_and_exact_length() -> None:
    body = build_body("completions", model="m", prompt=[1, 2, 3], max_tokens=64, temperature=0.0)
    assert body == {
        "model": "m",
        "prompt": [1, 2, 3],
        "max_tokens": 64,
        "temperature": 0.0,
        "ignore_eos": True,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_chat_body_wraps_prompt_in_one_user_message() -> None:
    body = build_body("chat", model="m", prompt="hi", max_tokens=8)
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["stream_options"] == {"include_usage": True}
    assert body["ignore_eos"] is True


def test_chat_refuses_token_id_prompts() -> None:
    with pytest.raises(UserError, match="token ids"):
        build_body("chat", model="m", prompt=[1, 2], max_tokens=8)


def test_llamacpp_body_uses_native_names_and_disables_prompt_cache() -> None:
    body = build_body("llamacpp", model="", prompt="hi", max_tokens=256)
    assert body == {
        "prompt": "hi",
        "n_predict": 256,
        "temperature": 0.0,
        "ignore_eos": True,
        "cache_prompt": False,
        "return_tokens": True,
        "stream": True,
    }


def test_extra_body_is_added_last_and_wins() -> None:
    body = build_body(
        "completions",
        model="m",
        prompt="p",
        max_tokens=4,
        extra_body={"return_token_ids": True, "temperature": 0.7},
    )
    assert body["return_token_ids"] is True
    assert body["temperature"] == 0.7


# --- SSE parsing -------------------------------------------------------------------------------


def test_completions_stream_with_usage_and_llamacpp_timings() -> None:
    # Shapes from llama.cpp b11434 /v1/completions (reference §5): text chunks, then a final
    # chunk with usage and timings (draft fields present because drafting happened), then [DONE].
    p = StreamParser("completions")
    p.feed_line(data({"choices": [{"text": "Hello", "index": 0, "finish_reason": None}]}), 0.10)
    p.feed_line("", 0.10)
    p.feed_line(data({"choices": [{"text": " world", "index": 0}]}), 0.15)
    p.feed_line(data({"choices": [{"text": "!!", "index": 0}]}), 0.20)
    final = {
        "choices": [{"text": "", "index": 0, "finish_reason": "length"}],
        "usage": {"completion_tokens": 6, "prompt_tokens": 12, "total_tokens": 18},
        "timings": {"predicted_n": 6, "draft_n": 8, "draft_n_accepted": 5, "prompt_n": 12},
    }
    p.feed_line(data(final), 0.21)
    assert not p.done
    p.feed_line("data: [DONE]", 0.21)
    assert p.done
    s = p.summary()
    assert s.chunk_times_s == [0.10, 0.15, 0.20]
    # 6 reported tokens over provisional chunks weighted by text length 5, 6, 2 (total 13):
    # cumulative round(6·5/13)=2, round(6·11/13)=5, 6 → shares 2, 3, 1.
    assert s.chunk_tokens == [2, 3, 1]
    assert s.output_tokens == 6
    assert s.input_tokens == 12
    assert (s.draft_tokens, s.accepted_tokens) == (8, 5)
    assert not s.counts_exact


def test_chat_role_only_and_usage_only_chunks_are_not_token_chunks() -> None:
    p = StreamParser("chat")
    p.feed_line(data({"choices": [{"delta": {"role": "assistant", "content": ""}}]}), 0.01)
    p.feed_line(data({"choices": [{"delta": {"content": "Hi"}}]}), 0.30)
    p.feed_line(data({"choices": [{"delta": {"reasoning_content": "hmm"}}]}), 0.35)
    p.feed_line(data({"choices": [], "usage": {"completion_tokens": 2, "prompt_tokens": 4}}), 0.4)
    p.feed_line("data: [DONE]", 0.4)
    s = p.summary()
    assert s.chunk_times_s == [0.30, 0.35]  # TTFT is 0.30, not the role chunk's 0.01
    assert s.chunk_tokens == [1, 1]
    assert s.output_tokens == 2


def test_llamacpp_tokens_field_gives_exact_burst_counts() -> None:
    p = StreamParser("llamacpp")
    p.feed_line(data({"content": "a b c", "tokens": [1, 2, 3], "stop": False}), 0.1)
    p.feed_line(data({"content": "", "tokens": [4, 5, 6], "stop": False}), 0.2)  # partial UTF-8
    p.feed_line(data({"content": "g", "tokens": [7], "stop": False}), 0.3)
    final = {
        "content": "",
        "tokens": [],
        "stop": True,
        "tokens_predicted": 7,
        "tokens_evaluated": 9,
        "timings": {"predicted_n": 7, "prompt_n": 9, "cache_n": 0},
    }
    p.feed_line(data(final), 0.31)
    assert p.done
    s = p.summary()
    assert s.chunk_tokens == [3, 3, 1]
    assert s.chunk_times_s == [0.1, 0.2, 0.3]
    assert s.output_tokens == 7
    assert s.input_tokens == 9
    assert s.draft_tokens is None
    assert s.counts_exact


def test_vllm_token_ids_and_logprobs_count_exactly() -> None:
    p = StreamParser("completions")
    p.feed_line(data({"choices": [{"text": "xy", "token_ids": [5, 6]}]}), 0.1)
    p.feed_line(data({"choices": [{"text": "z", "logprobs": {"tokens": ["z", "w", "v"]}}]}), 0.2)
    p.feed_line("data: [DONE]", 0.2)
    s = p.summary()
    assert s.chunk_tokens == [2, 3]
    assert s.output_tokens == 5  # no usage sent: the exact sum


def test_continuous_usage_gives_exact_per_chunk_deltas() -> None:
    p = StreamParser("completions")
    for t, text, cum in [(0.1, "a", 1), (0.2, "bcd", 4), (0.3, "e", 5)]:
        p.feed_line(data({"choices": [{"text": text}], "usage": {"completion_tokens": cum}}), t)
    p.feed_line("data: [DONE]", 0.3)
    s = p.summary()
    assert s.chunk_tokens == [1, 3, 1]
    assert s.counts_exact


def test_without_any_reported_count_provisional_counts_stay_one() -> None:
    p = StreamParser("completions")
    p.feed_line(data({"choices": [{"text": "long chunk of text"}]}), 0.1)
    p.feed_line(data({"choices": [{"text": "x"}]}), 0.2)
    p.feed_line("data: [DONE]", 0.2)
    s = p.summary()
    assert s.chunk_tokens == [1, 1]
    assert s.output_tokens == 2


TEXT_STREAMS: list[tuple[Any, list[dict[str, Any]], str]] = [
    (
        "completions",
        [
            {"choices": [{"text": "Hello", "index": 0}]},
            {"choices": [{"text": " wor", "token_ids": [7, 8]}]},
            {"choices": [{"text": "", "finish_reason": "length"}], "usage": {"prompt_tokens": 1}},
        ],
        "Hello wor",
    ),
    (
        "chat",
        [
            {"choices": [{"delta": {"role": "assistant", "content": ""}}]},
            {"choices": [{"delta": {"reasoning_content": "hmm, "}}]},
            {"choices": [{"delta": {"content": "ok"}}]},
            {"choices": [], "usage": {"completion_tokens": 3}},
        ],
        "hmm, ok",
    ),
    (
        "llamacpp",
        [
            {"content": "a b", "tokens": [1, 2], "stop": False},
            {"content": "", "tokens": [3], "stop": False},  # a partial UTF-8 byte adds no text
            {"content": "é", "tokens": [4], "stop": False},
            {"content": "", "tokens": [], "stop": True, "tokens_predicted": 4},
        ],
        "a bé",
    ),
]


@pytest.mark.parametrize(("api", "objs", "text"), TEXT_STREAMS)
def test_kept_text_is_every_chunks_text_in_order(
    api: Any, objs: list[dict[str, Any]], text: str
) -> None:
    kept, dropped = StreamParser(api, keep_text=True), StreamParser(api)
    for p in (kept, dropped):
        for i, obj in enumerate(objs):
            p.feed_line(data(obj), 0.1 * (i + 1))
    assert kept.summary().text == text
    assert dropped.summary().text is None
    # keeping the text changes nothing else
    assert kept.summary().chunk_tokens == dropped.summary().chunk_tokens


@pytest.mark.parametrize(
    "line",
    [": ping", ":", "", "event: completion", "id: 7", "retry: 1000"],
)
def test_comments_and_other_sse_fields_are_skipped(line: str) -> None:
    p = StreamParser("completions")
    p.feed_line(line, 0.1)
    assert p.times == []
    assert not p.done


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("data: {not json", "not JSON"),
        ("data: [1, 2]", "not a JSON object"),
        ("garbage without a field", "expected 'data: ...'"),
        ('data: {"error": {"message": "context too long"}}', "server error in stream"),
        ('data: {"choices": ["oops"]}', "choices[0] is str"),
    ],
)
def test_malformed_lines_raise_a_clear_stream_error(line: str, message: str) -> None:
    p = StreamParser("completions")
    with pytest.raises(StreamError, match=re.escape(message)):
        p.feed_line(line, 0.1)


def test_long_malformed_payload_is_shortened_in_the_message() -> None:
    p = StreamParser("chat")
    with pytest.raises(StreamError) as info:
        p.feed_line("data: " + "x" * 500, 0.1)
    assert len(str(info.value)) < 150


# --- attribution rule --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "exact", "reported", "weights", "expected"),
    [
        # no reported total: unchanged
        ([1, 1, 1], [False] * 3, None, None, [1, 1, 1]),
        # all exact: unchanged even when the total differs
        ([3, 3], [True, True], 7, None, [3, 3]),
        # even weights, 12 tokens over 4 chunks: round(12·k/4) → 3 each
        ([1, 1, 1, 1], [False] * 4, 12, None, [3, 3, 3, 3]),
        # even weights, 10 over 4: round(2.5)=3, round(5)=5, round(7.5)=8, 10 → 3,2,3,2
        ([1, 1, 1, 1], [False] * 4, 10, None, [3, 2, 3, 2]),
        # text weights 18,18,18,6 (a burst of 3 then 1): 10·18/60=3 → 3,3,3,1
        ([1, 1, 1, 1], [False] * 4, 10, [18, 18, 18, 6], [3, 3, 3, 1]),
        # exact chunk of 4 kept; 9−4=5 over two provisional chunks of equal text: 3 then 2
        ([4, 1, 1], [True, False, False], 9, [0, 2, 2], [4, 3, 2]),
        # weights 1,8,8 with 3 tokens: round(3/17)=0 → at least one each → 1,1,1
        ([1, 1, 1], [False] * 3, 3, [1, 8, 8], [1, 1, 1]),
        # fewer tokens than chunks (split multi-byte text): 2 over 3 chunks
        ([1, 1, 1], [False] * 3, 2, None, [1, 0, 1]),
        # reported below the exact sum: provisional chunks get 0
        ([5, 1], [True, False], 3, None, [5, 0]),
    ],
)
def test_attribute_tokens_table(
    counts: list[int],
    exact: list[bool],
    reported: int | None,
    weights: list[int] | None,
    expected: list[int],
) -> None:
    assert attribute_tokens(counts, exact, reported, weights) == expected


@given(
    chunks=st.lists(
        st.tuples(st.booleans(), st.integers(1, 6), st.integers(0, 40)), min_size=1, max_size=30
    ),
    extra=st.integers(0, 200),
)
def test_attribution_matches_the_reported_total_and_keeps_exact_counts(
    chunks: list[tuple[bool, int, int]], extra: int
) -> None:
    exact = [e for e, _, _ in chunks]
    counts = [c if e else 1 for e, c, _ in chunks]
    weights = [w for _, _, w in chunks]
    n_prov = exact.count(False)
    reported = sum(c for c, e in zip(counts, exact, strict=True) if e) + extra
    out = attribute_tokens(counts, exact, reported, weights)
    for c, e, o in zip(counts, exact, out, strict=True):
        if e:
            assert o == c
        else:
            assert o >= 0
            if extra >= n_prov:
                assert o >= 1
    if n_prov:
        assert sum(out) == reported
