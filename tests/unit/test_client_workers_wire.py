"""The hot path of the client: HTTP/1.1 framing (wire.py), SSE splitting and JSON parsing."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specscope.client.stream import (
    SseFeed,
    StreamError,
    StreamParser,
    _json_value,
    attribute_tokens,
)
from specscope.client.wire import RemoteProtocolError, Response, _Connection


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.aborted = False
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.closed = True


def chunked(payloads: list[bytes]) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in payloads) + b"0\r\n\r\n"


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


async def exchange(
    pieces: list[bytes], *, lost: bool = False, sink_error: Exception | None = None
) -> tuple[Response | BaseException, list[tuple[bytes, float]], _Connection]:
    """Send one request on a fresh connection and play ``pieces`` as the server's reads."""
    conn = _Connection()
    conn.connection_made(FakeTransport())
    got: list[tuple[bytes, float]] = []

    def sink(data: bytes, t: float) -> None:
        if sink_error is not None:
            raise sink_error
        got.append((data, t))

    fut = conn.send(b"POST / HTTP/1.1\r\n\r\n", sink)
    for piece in pieces:
        conn.data_received(piece)
    if lost:
        conn.connection_lost(None)
    assert fut.done()
    exc = fut.exception()
    outcome: Response | BaseException = exc if exc is not None else fut.result()
    return outcome, got, conn


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=6),
    st.lists(st.integers(0, 10_000), max_size=12),
)
def test_a_chunked_body_survives_any_split_into_reads(
    payloads: list[bytes], cuts: list[int]
) -> None:
    wire = HEAD + chunked(payloads)
    response, got, conn = asyncio.run(exchange(split(wire, cuts)))
    assert isinstance(response, Response) and response.status == 200
    assert b"".join(d for d, _ in got) == b"".join(payloads)
    assert conn.reusable


async def test_one_read_is_one_sink_call_with_one_timestamp() -> None:
    # three chunks in one read: the sink sees their payloads joined, once
    response, got, _ = await exchange([HEAD + chunked([b"a", b"bc", b"d"])])
    assert isinstance(response, Response)
    assert [d for d, _ in got] == [b"abcd"]


async def test_content_length_body_and_connection_close() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
    response, got, conn = await exchange([head + b"he", b"llo"])
    assert isinstance(response, Response) and response.status == 200
    assert b"".join(d for d, _ in got) == b"hello"
    assert not conn.reusable


async def test_an_error_status_collects_its_body_and_not_the_sink() -> None:
    body = b'{"error": "overloaded"}'
    head = b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: %d\r\n\r\n" % len(body)
    response, got, conn = await exchange([head + body])
    assert isinstance(response, Response)
    assert (response.status, response.error_body, got) == (429, body, [])
    assert conn.reusable


async def test_a_body_without_framing_ends_when_the_server_closes() -> None:
    response, got, conn = await exchange([b"HTTP/1.0 200 OK\r\n\r\n", b"data: x\n\n"], lost=True)
    assert isinstance(response, Response) and response.status == 200
    assert b"".join(d for d, _ in got) == b"data: x\n\n"
    assert not conn.reusable


@pytest.mark.parametrize(
    ("pieces", "got_response", "message"),
    [
        ([], False, "connection closed before any response"),
        ([b"HTTP/1.1 200 OK\r\nContent-"], False, "connection closed before any response"),
        ([HEAD + b"5\r\nab"], True, "connection closed"),
    ],
)
async def test_a_close_before_the_end_says_whether_the_response_began(
    pieces: list[bytes], got_response: bool, message: str
) -> None:
    outcome, _, conn = await exchange(pieces, lost=True)
    assert isinstance(outcome, RemoteProtocolError)
    assert outcome.got_response is got_response
    assert str(outcome).startswith(message)
    assert not conn.reusable


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (HEAD + b"zz\r\n", "malformed chunk size b'zz'"),
        (HEAD + b"1\r\nabc", "chunk not followed by CRLF"),
        (b"SPDY/9 nonsense\r\n\r\n", "malformed status line"),
    ],
)
async def test_broken_framing_fails_the_request_and_drops_the_connection(
    wire: bytes, message: str
) -> None:
    outcome, _, conn = await exchange([wire])
    assert isinstance(outcome, RemoteProtocolError) and message in str(outcome)
    assert conn.closed and not conn.reusable


async def test_an_exception_in_the_sink_ends_the_request() -> None:
    outcome, _, conn = await exchange(
        [HEAD + chunked([b"data: {\n\n"])], sink_error=StreamError("bad")
    )
    assert isinstance(outcome, StreamError)
    assert conn.closed


# --- SSE splitting and JSON ---------------------------------------------------------------------

EVENTS = [
    {"choices": [{"index": 0, "text": "Hel", "finish_reason": None}]},
    {"choices": [{"index": 0, "text": "lo wörld", "finish_reason": None}]},
    {"choices": [{"index": 0, "text": "!", "finish_reason": "length"}]},
    {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}},
]
SSE = (
    b": ping\r\n\r\n"
    + b"".join(b"data: %s\r\n\r\n" % json.dumps(e, ensure_ascii=False).encode() for e in EVENTS)
    + b"data: [DONE]\n\n"
)


def parse(pieces: list[bytes]) -> StreamParser:
    parser = StreamParser("completions", keep_text=True)
    feed = SseFeed(parser, sent_s=1.0)
    for k, piece in enumerate(pieces):
        feed(piece, 2.0 + k)
    feed.finish(99.0)
    return parser


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 10_000), max_size=10))
def test_sse_lines_split_across_reads_parse_the_same(cuts: list[int]) -> None:
    whole = parse([SSE]).summary()
    pieces = parse(split(SSE, cuts))
    got = pieces.summary()
    assert pieces.complete
    # "lo wörld" is 8 characters: 4 usage tokens over weights 3, 8, 1 → 1, 2, 1 (rounded shares)
    assert (got.chunk_tokens, got.output_tokens, got.text) == ([1, 2, 1], 4, "Hello wörld!")
    assert (got.chunk_tokens, got.text) == (whole.chunk_tokens, whole.text)


def test_every_line_of_a_read_gets_that_reads_arrival_time() -> None:
    parser = StreamParser("completions")
    feed = SseFeed(parser, sent_s=1.0)
    two = b"".join(b"data: %s\n\n" % json.dumps(e).encode() for e in EVENTS[:2])
    feed(two, 5.0)
    feed(b"data: %s\n\n" % json.dumps(EVENTS[2]).encode(), 5.5)
    assert parser.times == [4.0, 4.0, 4.5]


def test_a_last_line_without_newline_is_fed_by_finish() -> None:
    parser = StreamParser("completions")
    feed = SseFeed(parser, sent_s=0.0)
    feed(b"data: [DONE]", 1.0)
    assert not parser.done
    feed.finish(1.0)
    assert parser.done


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_the_fast_json_path_reads_what_json_loads_reads(value: Any) -> None:
    payload = b" " + json.dumps(value, ensure_ascii=False).encode()
    assert _json_value(payload) == json.loads(payload)


@pytest.mark.parametrize("payload", [b"", b" {", b'{"a": 1} x', b"[1] [2]", b"\xff"])
def test_the_fast_json_path_rejects_what_json_loads_rejects(payload: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(payload)
    with pytest.raises(ValueError):
        _json_value(payload)


@given(
    st.lists(st.integers(0, 40), min_size=1, max_size=30),
    st.integers(0, 6),
)
def test_provisional_shares_keep_a_token_each_and_add_up(weights: list[int], extra: int) -> None:
    # U = n + extra tokens for n provisional chunks (U = n takes attribute_tokens' shortcut):
    # every chunk keeps at least one token and the shares add up to U
    n = len(weights)
    shares = attribute_tokens([1] * n, [False] * n, n + extra, weights)
    assert sum(shares) == n + extra
    assert min(shares) >= 1
    if extra == 0:
        assert shares == [1] * n
