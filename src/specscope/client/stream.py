"""Parsing the streamed (SSE) responses of the APIs in ``protocols.py``: chunk times, token counts.

Token counting (the rule, in order):

1. A chunk that names its tokens is counted exactly: llama.cpp ``tokens`` (we send
   ``return_tokens: true``), vLLM ``token_ids`` (ask for them with
   ``extra_body={"return_token_ids": true}``), or OpenAI ``logprobs`` (the ``tokens`` list for
   completions, the ``content`` list for chat).
2. Otherwise a cumulative count carried by the chunk gives the delta exactly (vLLM
   ``continuous_usage_stats`` puts ``usage.completion_tokens`` on every chunk).
3. Otherwise a chunk carrying text counts as one token *provisionally*. When the stream ends,
   the provisional counts are rescaled so that the request's total equals the server's reported
   output tokens (``usage.completion_tokens``, else ``timings.predicted_n``, else llama.cpp
   ``tokens_predicted``): the U tokens not accounted for by exact chunks are shared among the
   provisional chunks in proportion to the length of each chunk's text (a proxy for its token
   count), rounded on the cumulative share so the shares add up to U exactly; when U is at least
   the number of provisional chunks, every one of them keeps at least one token (it carried
   text). Exact counts are never changed. Without a reported total, provisional counts stay 1.

``output_tokens`` is the server's reported count when it sends one (SPEC §1), else the sum of the
chunk counts. A chunk with neither text nor tokens (a chat role-only delta, the final usage chunk)
is not a token chunk: it does not start TTFT and is not in ``chunk_times_s``.

Output text (kept only when asked, for the lossless check): the concatenation of every chunk's
generated text in arrival order — ``content`` (llama.cpp), ``choices[0].text`` (completions), the
delta's ``content``, else ``reasoning_content``/``reasoning`` (chat) — whatever way its tokens
were counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from json.scanner import make_scanner
from typing import Any

from specscope.client.protocols import ApiKind

_SKIPPED_FIELDS = (b"event:", b"id:", b"retry:")
_SHOW_CHARS = 80


class StreamError(Exception):
    """The server's stream could not be understood; the request is recorded as failed."""


def attribute_tokens(
    counts: list[int],
    exact: list[bool],
    reported: int | None,
    weights: list[int] | None = None,
) -> list[int]:
    """Token count per chunk after rescaling provisional counts to the server's total.

    ``counts[i]`` is chunk i's count, exact when ``exact[i]``; ``weights[i]`` is its text length
    (all 1 when omitted). Without a reported total the counts are returned unchanged. Otherwise
    U = max(reported − Σexact, 0) tokens go to the provisional chunks: with cumulative weight
    C_j of the first j of them and total W, chunk j gets round(U·C_j/W) − round(U·C_{j−1}/W);
    then, if U ≥ their number, a chunk left at 0 takes one token from the largest share.
    """
    if reported is None:
        return list(counts)
    provisional = [i for i, is_exact in enumerate(exact) if not is_exact]
    if not provisional:
        return list(counts)
    exact_sum = sum(c for c, is_exact in zip(counts, exact, strict=True) if is_exact)
    unaccounted = max(reported - exact_sum, 0)
    if unaccounted == len(provisional):
        # the rule's result without its loop: every provisional chunk keeps at least one token
        # (U ≥ their number) and the shares add up to U, so each gets exactly one
        out = list(counts)
        for i in provisional:
            out[i] = 1
        return out
    w = [max(weights[i], 0) if weights is not None else 1 for i in provisional]
    total_w = sum(w)
    if total_w == 0:
        w, total_w = [1] * len(provisional), len(provisional)
    shares: list[int] = []
    cum_w = 0
    prev = 0
    for wj in w:
        cum_w += wj
        upto = (2 * unaccounted * cum_w + total_w) // (2 * total_w)  # round half up
        shares.append(upto - prev)
        prev = upto
    if unaccounted >= len(shares):
        for j, share in enumerate(shares):
            if share == 0:
                donor = max(range(len(shares)), key=shares.__getitem__)
                shares[donor] -= 1
                shares[j] = 1
    out = list(counts)
    for i, share in zip(provisional, shares, strict=True):
        out[i] = share
    return out


@dataclass(frozen=True, slots=True)
class StreamSummary:
    """What one finished stream said, in the units of RequestRecord."""

    chunk_times_s: list[float]
    chunk_tokens: list[int]
    output_tokens: int
    input_tokens: int | None
    draft_tokens: int | None
    accepted_tokens: int | None
    counts_exact: bool
    """True when every chunk's count came from the server (rule 1 or 2), none rescaled."""
    text: str | None = None
    """The generated text, when the parser was asked to keep it."""
    spec_decoding: dict[str, Any] | None = None
    """Per-request spec-decoding fields as the server sent them, by where they were found:
    ``metrics.speculative_decoding`` (vLLM ``--per-request-spec-decode-metrics``) and
    ``meta_info`` (SGLang's ``spec_*`` keys); read by ``specscope.engines.acceptance``."""


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


# typeshed types make_scanner's argument as the scanner class itself; it takes a JSONDecoder
_SCAN_JSON: Callable[[str, int], tuple[Any, int]] = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def _json_value(payload: bytes) -> Any:
    """``json.loads`` of one UTF-8 SSE payload through the C scanner directly (the hot path:
    no encoding detection, no wrapper calls). Raises ValueError when it is not one JSON value."""
    text = payload.decode("utf-8").strip()
    try:
        value, end = _SCAN_JSON(text, 0)
    except StopIteration:
        raise ValueError("not JSON") from None
    if end != len(text):
        raise ValueError("extra data after the JSON value")
    return value


def _show(text: str) -> str:
    return text if len(text) <= _SHOW_CHARS else text[:_SHOW_CHARS] + "…"


class StreamParser:
    """Reads one response's SSE lines and collects chunk times and token counts.

    Feed every line with the time it arrived (seconds since send); read ``complete`` to know
    whether the stream ended properly, then call ``summary()``. Malformed input raises
    StreamError. With ``keep_text`` the generated text is collected too (``summary().text``).
    """

    __slots__ = (
        "_api",
        "_cumulative",
        "_draft_accepted",
        "_draft_n",
        "_exact",
        "_final_predicted",
        "_input_tokens",
        "_reported",
        "_sglang_text",
        "_spec",
        "_texts",
        "_timings_predicted",
        "_weights",
        "counts",
        "done",
        "finished",
        "times",
    )

    def __init__(self, api: ApiKind, *, keep_text: bool = False) -> None:
        self._api: ApiKind = api
        self._texts: list[str] | None = [] if keep_text else None
        self.times: list[float] = []
        self.counts: list[int] = []
        self._exact: list[bool] = []
        self._weights: list[int] = []
        self._cumulative = 0
        self._reported: int | None = None
        self._timings_predicted: int | None = None
        self._final_predicted: int | None = None
        self._input_tokens: int | None = None
        self._draft_n: int | None = None
        self._draft_accepted: int | None = None
        self._spec: dict[str, Any] | None = None
        self._sglang_text = ""
        self.done = False
        """``data: [DONE]`` seen, or llama.cpp's ``stop: true`` chunk."""
        self.finished = False
        """A choice carried a ``finish_reason``."""

    def feed_line(self, line: str, t_s: float) -> None:
        """One line of the SSE body (without its newline), arrived ``t_s`` after send."""
        self.feed_raw(line.encode("utf-8", "surrogatepass"), t_s)

    def feed_raw(self, line: bytes, t_s: float) -> None:
        """``feed_line`` for a line still in bytes (the hot path: no text decoding)."""
        if not line or line[0] == 58:  # b":": event boundary or comment (keep-alive pings)
            return
        if line.startswith(b"data:"):
            payload = line[5:]
            if len(payload) < 12 and payload.strip() == b"[DONE]":
                self.done = True
                return
            try:
                obj = _json_value(payload)
            except ValueError:
                shown = _show(payload.decode("utf-8", "replace").strip())
                raise StreamError(f"malformed SSE data (not JSON): {shown!r}") from None
            if type(obj) is not dict:
                shown = _show(payload.decode("utf-8", "replace").strip())
                raise StreamError(f"malformed SSE data (not a JSON object): {shown!r}")
            self._feed_object(obj, t_s)
            return
        if line.startswith(_SKIPPED_FIELDS):
            return
        shown = _show(line.decode("utf-8", "replace"))
        raise StreamError(f"malformed SSE line (expected 'data: ...'): {shown!r}")

    def _feed_object(self, obj: dict[str, Any], t_s: float) -> None:
        err = obj.get("error")
        if err is not None:
            msg = err.get("message", err) if isinstance(err, dict) else err
            raise StreamError(f"server error in stream: {_show(str(msg))}")
        timings = obj.get("timings")
        if isinstance(timings, dict):
            self._read_timings(timings)
        metrics = obj.get("metrics")
        if isinstance(metrics, dict) and isinstance(metrics.get("speculative_decoding"), dict):
            self._keep_spec("metrics.speculative_decoding", metrics["speculative_decoding"])
        meta = obj.get("meta_info")
        if isinstance(meta, dict) and any(k.startswith("spec_") for k in meta):
            self._keep_spec("meta_info", {k: v for k, v in meta.items() if k.startswith("spec_")})
        usage = obj.get("usage")
        cumulative: int | None = None
        if isinstance(usage, dict):
            cumulative = _as_int(usage.get("completion_tokens"))
            if cumulative is not None:
                self._reported = cumulative
            prompt_tokens = _as_int(usage.get("prompt_tokens"))
            if prompt_tokens is not None:
                self._input_tokens = prompt_tokens
        if self._api == "llamacpp":
            self._feed_llamacpp(obj, t_s)
            return
        if self._api == "sglang":
            self._feed_sglang(obj, t_s)
            return
        choices = obj.get("choices")
        if not isinstance(choices, list) or not choices:
            return  # usage-only final chunk
        choice = choices[0]
        if not isinstance(choice, dict):
            raise StreamError(f"malformed chunk: choices[0] is {type(choice).__name__}")
        if choice.get("finish_reason"):
            self.finished = True
        if self._api == "chat":
            delta = choice.get("delta")
            text: object = None
            if isinstance(delta, dict):
                text = (
                    delta.get("content") or delta.get("reasoning_content") or delta.get("reasoning")
                )
            logprob_items = _list_or_none(choice.get("logprobs"), "content")
        else:
            text = choice.get("text")
            logprob_items = _list_or_none(choice.get("logprobs"), "tokens")
        if self._texts is not None and isinstance(text, str) and text:
            self._texts.append(text)
        ids = choice.get("token_ids")
        if isinstance(ids, list) and ids:
            self._add_chunk(t_s, len(ids), True, cumulative, 0)
        elif logprob_items:
            self._add_chunk(t_s, len(logprob_items), True, cumulative, 0)
        elif isinstance(text, str) and text:
            self._add_chunk(t_s, 1, False, cumulative, len(text))

    def _feed_llamacpp(self, obj: dict[str, Any], t_s: float) -> None:
        stop = obj.get("stop") is True
        predicted = _as_int(obj.get("tokens_predicted"))
        if stop:
            self._final_predicted = predicted
            evaluated = _as_int(obj.get("tokens_evaluated"))
            if evaluated is not None:
                self._input_tokens = evaluated
        ids = obj.get("tokens")
        text = obj.get("content")
        if self._texts is not None and isinstance(text, str) and text:
            self._texts.append(text)
        if isinstance(ids, list) and ids:
            self._add_chunk(t_s, len(ids), True, None, 0)
        elif isinstance(text, str) and text:
            self._add_chunk(t_s, 1, False, None if stop else predicted, len(text))
        if stop:
            self.done = True

    def _feed_sglang(self, obj: dict[str, Any], t_s: float) -> None:
        """One SGLang ``/generate`` event: ``text`` is the whole output so far (its tail is new),
        ``meta_info.completion_tokens`` the cumulative token count (exact deltas, rule 2)."""
        meta = obj.get("meta_info")
        meta = meta if isinstance(meta, dict) else {}
        if meta.get("finish_reason"):
            self.finished = True
        prompt_tokens = _as_int(meta.get("prompt_tokens"))
        if prompt_tokens is not None:
            self._input_tokens = prompt_tokens
        cumulative = _as_int(meta.get("completion_tokens"))
        if cumulative is not None:
            self._reported = cumulative
        text = obj.get("text")
        new_text = ""
        if isinstance(text, str):
            seen = self._sglang_text
            new_text = text[len(seen) :] if text.startswith(seen) else text
            self._sglang_text = text if text.startswith(seen) else seen + text
        if self._texts is not None and new_text:
            self._texts.append(new_text)
        if cumulative is not None and cumulative > self._cumulative:
            self._add_chunk(t_s, cumulative - self._cumulative, True, cumulative, 0)
        elif cumulative is None and new_text:
            self._add_chunk(t_s, 1, False, None, len(new_text))

    def _keep_spec(self, where: str, fields: dict[str, Any]) -> None:
        """Keep the latest per-request spec-decoding fields (servers repeat them cumulatively)."""
        if self._spec is None:
            self._spec = {}
        self._spec[where] = fields

    def _read_timings(self, timings: dict[str, Any]) -> None:
        predicted = _as_int(timings.get("predicted_n"))
        if predicted is not None:
            self._timings_predicted = predicted
        draft_n = _as_int(timings.get("draft_n"))
        if draft_n is not None:
            self._draft_n = draft_n
        accepted = _as_int(timings.get("draft_n_accepted"))
        if accepted is not None:
            self._draft_accepted = accepted
        if self._input_tokens is None:
            prompt_n = _as_int(timings.get("prompt_n"))
            cache_n = _as_int(timings.get("cache_n")) or 0
            if prompt_n is not None:
                self._input_tokens = prompt_n + cache_n

    def _add_chunk(
        self, t_s: float, count: int, exact: bool, cumulative: int | None, text_len: int
    ) -> None:
        if not exact and cumulative is not None and cumulative > self._cumulative:
            count = cumulative - self._cumulative
            exact = True
        if cumulative is not None:
            self._cumulative = max(self._cumulative, cumulative)
        else:
            self._cumulative += count
        self.times.append(t_s)
        self.counts.append(count)
        self._exact.append(exact)
        self._weights.append(text_len)

    @property
    def complete(self) -> bool:
        """The response finished: ``[DONE]``, ``stop: true`` or a ``finish_reason`` was seen."""
        return self.done or self.finished

    def reported_output_tokens(self) -> int | None:
        """The server's own output count: usage, else timings, else llama.cpp tokens_predicted."""
        if self._reported is not None:
            return self._reported
        if self._timings_predicted is not None:
            return self._timings_predicted
        return self._final_predicted

    def summary(self) -> StreamSummary:
        """Chunk times and counts with the attribution rule of this module applied."""
        reported = self.reported_output_tokens()
        tokens = attribute_tokens(self.counts, self._exact, reported, self._weights)
        return StreamSummary(
            chunk_times_s=list(self.times),
            chunk_tokens=tokens,
            output_tokens=reported if reported is not None else sum(tokens),
            input_tokens=self._input_tokens,
            draft_tokens=self._draft_n,
            accepted_tokens=self._draft_accepted,
            counts_exact=all(self._exact),
            text="".join(self._texts) if self._texts is not None else None,
            spec_decoding=self._spec,
        )


def _list_or_none(container: object, key: str) -> list[Any] | None:
    if isinstance(container, dict):
        items = container.get(key)
        if isinstance(items, list):
            return items
    return None


class SseFeed:
    """Splits a streamed response body into SSE lines for a StreamParser.

    Call it with each network read and the ``time.perf_counter()`` value when the read arrived;
    every line completed by that read is fed with that arrival time, made relative to ``sent_s``.
    Lines end in ``\\n`` (a ``\\r`` before it is dropped); ``finish`` feeds a last line that
    has none.
    """

    __slots__ = ("_feed", "_rest", "sent_s")

    def __init__(self, parser: StreamParser, sent_s: float) -> None:
        self._feed = parser.feed_raw
        self._rest = b""
        self.sent_s = sent_s

    def __call__(self, data: bytes, t: float) -> None:
        if self._rest:
            data = self._rest + data
        lines = data.split(b"\n")
        self._rest = lines.pop()
        t_s = t - self.sent_s
        feed = self._feed
        for line in lines:
            if line:
                feed(line[:-1] if line[-1] == 13 else line, t_s)

    def finish(self, t: float) -> None:
        rest, self._rest = self._rest, b""
        if rest.rstrip(b"\r"):
            self._feed(rest.rstrip(b"\r"), t - self.sent_s)
