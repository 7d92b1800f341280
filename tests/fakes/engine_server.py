"""Fake vLLM, SGLang and TensorRT-LLM servers that speak each engine's wire format (no model).

Run as the engine's executable (``engine.binary`` of a recipe): it takes the engine's own
arguments, serves on ``--port`` and picks its engine from ``FAKE_ENGINE`` (vllm, sglang, trt).
Shapes copied (in shape, not code) from the upstream sources named in docs/engines.md:

- vLLM v0.29.0: ``/v1/completions`` SSE with a final usage chunk that carries
  ``metrics.speculative_decoding`` when started with ``--per-request-spec-decode-metrics``
  (docs/features/speculative_decoding/acceptance_metrics.md); ``/metrics`` Prometheus counters
  ``vllm:spec_decode_num_drafts_total`` … ``_num_accepted_tokens_per_pos_total{position}``
  counting every request since start (warm-ups included); ``/v1/models``, ``/tokenize``.
- SGLang: native ``/generate`` SSE, each event ``{"text": <output so far>, "output_ids",
  "meta_info": {prompt_tokens, completion_tokens, finish_reason, spec_verify_ct,
  spec_num_correct_drafts, spec_num_proposed_drafts, spec_accepted_drafts,
  spec_proposed_drafts, spec_correct_drafts_histogram, spec_accept_length, spec_accept_rate}}``
  then ``data: [DONE]`` (tokenizer_manager.py); ``/server_info`` with
  ``internal_states[0].avg_spec_accept_length``, a running average since start.
- TensorRT-LLM: ``/v1/completions`` SSE; ``GET /metrics`` returns and clears the queued
  iteration stats (``iter``, ``specDecodingStats``), a deque of ``iter_stats_max_iterations``
  entries read from the ``--extra_llm_api_options`` YAML (1000 when unset or 0, unbounded when
  negative; openai_server.py ``_iteration_stats_buffer_maxlen``). ``FAKE_ITER_BUFFER`` overrides.

Acceptance is deterministic: after the prefill token, verify step i accepts
``min(PATTERN[i % len], g)`` draft tokens (``FAKE_ACCEPT``, default ``2,0,1,2``) and emits that
many plus the bonus token, until the requested output length is reached. Each launch and request
is logged to ``FAKE_LOG`` (JSON lines).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import deque
from typing import Any

from tests.fakes.stream_server import StreamServer


def _arg(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args else None


def depth(engine: str, args: list[str]) -> int:
    """g from the engine's own launch arguments (0 when spec is off)."""
    if engine == "vllm":
        config = _arg(args, "--speculative-config")
        return int(json.loads(config)["num_speculative_tokens"]) if config else 0
    if engine == "sglang":
        tokens = _arg(args, "--speculative-num-draft-tokens")
        return int(tokens) - 1 if tokens else 0
    options = trt_options(args)
    spec = options.get("speculative_config") or {}
    return int(spec.get("max_draft_len") or 0)


def trt_options(args: list[str]) -> dict[str, Any]:
    """The ``--extra_llm_api_options`` YAML (flat ``key: value`` and one nested level)."""
    path = _arg(args, "--extra_llm_api_options")
    if not path:
        return {}
    data: dict[str, Any] = {}
    section: dict[str, Any] | None = None
    with open(path) as f:
        text = f.read()
    for line in text.splitlines():
        if not line.strip():
            continue
        key, _, value = line.strip().partition(":")
        value = value.strip()
        if not line.startswith(" "):
            if value:
                data[key] = json.loads(value) if value[0] in "0123456789-tf" else value
                section = None
            else:
                section = data[key] = {}
        elif section is not None:
            section[key] = json.loads(value) if value[:1] in "0123456789-" else value.strip('"')
    return data


def steps_for(n_tokens: int, g: int, pattern: list[int]) -> list[int]:
    """Accepted draft tokens of each verify step of one request of ``n_tokens`` outputs."""
    accepted: list[int] = []
    emitted = 1  # the prefill token
    while emitted < n_tokens and g > 0:
        a = min(pattern[len(accepted) % len(pattern)], g, n_tokens - emitted - 1)
        accepted.append(a)
        emitted += a + 1
    return accepted


class FakeEngine(StreamServer):
    def __init__(self, engine: str, args: list[str]) -> None:
        super().__init__()
        self.engine = engine
        self.args = args
        self.g = depth(engine, args)
        self.pattern = [int(x) for x in os.environ.get("FAKE_ACCEPT", "2,0,1,2").split(",")]
        self.per_request = "--per-request-spec-decode-metrics" in args
        # server-wide state since start
        self.drafts = self.draft_tokens = self.accepted = 0
        self.per_pos = [0] * max(self.g, 1)
        self.iteration = 0
        maxlen: int | None = 1000
        if engine == "trt":
            configured = trt_options(args).get("iter_stats_max_iterations")
            if isinstance(configured, int) and configured != 0:
                maxlen = None if configured < 0 else configured
        if os.environ.get("FAKE_ITER_BUFFER"):
            maxlen = int(os.environ["FAKE_ITER_BUFFER"])
        self.iter_stats: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self.log_path = os.environ.get("FAKE_LOG")

    def log(self, **record: Any) -> None:
        if self.log_path:
            with open(self.log_path, "a") as f:
                f.write(json.dumps({"pid": os.getpid(), **record}) + "\n")

    async def _serve(
        self, path: str, headers: dict[str, str], body: dict[str, Any], w: Any
    ) -> bool:
        if path == "/health":
            await self._plain(w, 200, {"status": "ok"})
            return True
        if path == "/v1/models":
            await self._plain(w, 200, {"object": "list", "data": [{"id": "fake-model"}]})
            return True
        if path == "/tokenize" and self.engine == "vllm":
            n = len(str(body.get("prompt", "")).split())
            await self._plain(w, 200, {"count": n, "max_model_len": 4096, "tokens": list(range(n))})
            return True
        if path == "/metrics":
            if self.engine == "trt":
                stats = list(self.iter_stats)
                self.iter_stats.clear()
                await self._json_list(w, stats)
            else:
                await self._text(w, self.prometheus())
            return True
        if path == "/server_info" and self.engine == "sglang":
            avg = 1 + self.accepted / self.drafts if self.drafts else None
            info = {
                "internal_states": [{"avg_spec_accept_length": avg, "last_gen_throughput": 1.0}]
            }
            await self._plain(w, 200, info)
            return True
        if path in ("/v1/completions", "/generate"):
            self.log(event="request", path=path, body=body)
            await self._generate(path, body, w)
            return True
        await self._plain(w, 404, {"error": {"message": f"no route {path}"}})
        return True

    async def _json_list(self, w: Any, data: list[Any]) -> None:
        raw = json.dumps(data).encode()
        w.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % len(raw)
            + raw
        )
        await w.drain()

    async def _text(self, w: Any, text: str) -> None:
        raw = text.encode()
        w.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
            b"Content-Length: %d\r\n\r\n" % len(raw) + raw
        )
        await w.drain()

    def prometheus(self) -> str:
        if self.engine != "vllm" or not self.g:
            return "# no spec counters\n"
        labels = 'engine="0",model_name="fake-model"'
        lines = []
        for name, value in (
            ("num_drafts", self.drafts),
            ("num_draft_tokens", self.draft_tokens),
            ("num_accepted_tokens", self.accepted),
        ):
            lines += [
                f"# TYPE vllm:spec_decode_{name} counter",
                f"vllm:spec_decode_{name}_total{{{labels}}} {float(value)}",
            ]
        lines.append("# TYPE vllm:spec_decode_num_accepted_tokens_per_pos counter")
        for k, value in enumerate(self.per_pos):
            lines.append(
                f'vllm:spec_decode_num_accepted_tokens_per_pos_total{{{labels},position="{k}"}} '
                f"{float(value)}"
            )
        return "\n".join(lines) + "\n"

    def _iteration(self, drafted: int, accepted: int) -> None:
        self.iteration += 1
        spec = (
            {
                "numDraftTokens": drafted,
                "numAcceptedTokens": accepted,
                "numRequestsWithDraftTokens": 1 if drafted else 0,
                "acceptanceLength": float(accepted + 1) if drafted else 0.0,
                "iterLatencyMS": 0.0,
                "draftOverhead": 0.0,
            }
            if self.g
            else None
        )
        entry: dict[str, Any] = {"iter": self.iteration, "iterLatencyMS": 1.0, "timestamp": ""}
        if spec is not None:
            entry["specDecodingStats"] = spec
        self.iter_stats.append(entry)

    async def _generate(self, path: str, body: dict[str, Any], w: Any) -> None:
        native = path == "/generate"
        params = body.get("sampling_params", {}) if native else body
        n = int(params.get("max_new_tokens" if native else "max_tokens") or 16)
        prompt = body.get("text", body.get("prompt", ""))
        prompt_tokens = len(prompt.split()) if isinstance(prompt, str) else len(prompt)
        steps = steps_for(n, self.g, self.pattern)
        histogram = [0] * (self.g + 1)
        w.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
        )
        if self.engine == "trt":
            self._iteration(0, 0)  # the prefill iteration
        bursts = [1] + [a + 1 for a in steps]
        text = ""
        done = 0
        for i, burst in enumerate(bursts):
            if i > 0:
                a = steps[i - 1]
                histogram[a] += 1
                self.drafts += 1
                self.draft_tokens += self.g
                self.accepted += a
                for k in range(a):
                    self.per_pos[k] += 1
                if self.engine == "trt":
                    self._iteration(self.g, a)
            piece = "".join(f"t{done + j} " for j in range(burst))
            done += burst
            text += piece
            last = done >= n
            if native:
                meta = self._sglang_meta(prompt_tokens, done, steps[:i], histogram, last, n)
                event = {
                    "text": text,
                    "output_ids": list(range(done - burst, done)),
                    "meta_info": meta,
                }
            else:
                event = {
                    "id": "cmpl-fake",
                    "object": "text_completion",
                    "created": int(time.time()),
                    "model": "fake-model",
                    "choices": [
                        {
                            "index": 0,
                            "text": piece,
                            "logprobs": None,
                            "finish_reason": "length" if last else None,
                            "stop_reason": None,
                        }
                    ],
                }
            await self._write_chunk(w, f"data: {json.dumps(event)}\n\n")
            await asyncio.sleep(0)
        if not native and (body.get("stream_options") or {}).get("include_usage"):
            usage: dict[str, Any] = {
                "id": "cmpl-fake",
                "object": "text_completion",
                "created": int(time.time()),
                "model": "fake-model",
                "choices": [],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "total_tokens": prompt_tokens + n,
                    "completion_tokens": n,
                },
            }
            if self.engine == "vllm" and self.per_request and self.g:
                accepted = sum(steps)
                usage["metrics"] = {
                    "speculative_decoding": {
                        "mean_acceptance_length": 1 + accepted / len(steps) if steps else 1.0,
                        "draft_acceptance_rate": accepted / (len(steps) * self.g) if steps else 0.0,
                        "acceptance_histogram": histogram,
                        "acceptance_histogram_by_draft_length": {str(self.g): histogram},
                        "num_spec_steps": len(steps),
                        "num_accepted_draft_tokens": accepted,
                        "num_draft_tokens": len(steps) * self.g,
                        "num_spec_tokens": self.g,
                    }
                }
            await self._write_chunk(w, f"data: {json.dumps(usage)}\n\n")
        await self._write_chunk(w, "data: [DONE]\n\n")
        await self._write_chunk(w, "")

    def _sglang_meta(
        self,
        prompt_tokens: int,
        completion: int,
        steps: list[int],
        histogram: list[int],
        last: bool,
        n: int,
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "id": "fake",
            "finish_reason": {"type": "length", "length": n} if last else None,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "cached_tokens": 0,
        }
        if not self.g:
            return meta
        meta["spec_verify_ct"] = len(steps)
        proposed = len(steps) * self.g
        if proposed:
            correct = sum(steps)
            meta.update(
                spec_accept_rate=correct / proposed,
                spec_accept_length=completion / len(steps),
                spec_num_correct_drafts=correct,
                spec_num_proposed_drafts=proposed,
                spec_accepted_drafts=correct,
                spec_proposed_drafts=proposed,
                spec_correct_drafts_histogram=list(histogram),
            )
        return meta


async def serve(engine: str, args: list[str]) -> None:
    port = int(_arg(args, "--port") or 0)
    server = FakeEngine(engine, args)
    server._server = await asyncio.start_server(server._handle, "127.0.0.1", port)
    server.port = port
    server.log(event="launch", args=args, g=server.g, buffer=server.iter_stats.maxlen)
    await asyncio.Event().wait()


def main() -> None:
    asyncio.run(serve(os.environ["FAKE_ENGINE"], sys.argv[1:]))


if __name__ == "__main__":
    main()
