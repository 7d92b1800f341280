"""A throwaway engine, whole in this one module: what adding an engine to specscope takes.

``toy-serve MODEL --host H --port P [--slots N] [--draft-depth g]``. Acceptance: running totals
on ``GET /stats`` (``{"steps", "drafted", "accepted"}``), read as the difference over the window,
unless every timed response carried its own counts (``toy_spec`` in ``spec_decoding``); its
Prometheus counters, were it read that way, are ``toy:spec_decode_*``. Every load request asks
for ``toy_cache: false``. Importing the module registers it; nothing in ``src`` names it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from specscope.engines.acceptance import (
    AcceptanceStrategy,
    RequestCounts,
    acceptance_source,
    int_field,
    per_request_counts,
    sum_request_counts,
)
from specscope.engines.base import (
    Engine,
    ServerSettings,
    SpecSettings,
    require_draft_depth,
    server_args,
    unsupported,
)
from specscope.engines.registry import register_engine
from specscope.schema import AcceptanceCounts, RequestRecord
from specscope.workload.prompt import ChatMessage
from specscope.workload.tokenizer import Tokenizer

SOURCE = "toy_stats"


class WordTokenizer:
    """One token per word (the toy server's tokenizer)."""

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        return list(range(len(text.split()) + add_special))

    def detokenize(self, ids: Sequence[int]) -> str:
        return " ".join("w" for _ in ids)

    def count_chat(self, messages: Sequence[ChatMessage]) -> int:
        return sum(len(m.content.split()) for m in messages)


@register_engine
class ToyEngine(Engine):
    """``toy-serve MODEL --host H --port P [--slots N] [--draft-depth g]``."""

    name = "toy"
    aliases = ("toy-llm",)
    metrics_path = "/stats"
    acceptance_source = SOURCE
    metric_prefix = "toy"
    request_defaults = MappingProxyType({"toy_cache": False})

    def spec_args(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        if spec.is_off:
            return list(spec.extra_args)
        if spec.method != "ngram":
            raise unsupported(self.name, spec, ["none", "ngram"])
        return ["--draft-depth", str(require_draft_depth(self.name, spec)), *spec.extra_args]

    def command(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        return [
            server.binary or "toy-serve",
            server.model,
            *server_args(server, ("--slots", server.parallel)),
            *self.spec_args(spec, server),
            *server.extra_args,
        ]

    def tokenizer(self, base_url: str, model: str | None = None) -> Tokenizer:
        return WordTokenizer()


def _request_counts(fields: Mapping[str, Any]) -> RequestCounts | None:
    steps, accepted = int_field(fields, "steps"), int_field(fields, "accepted")
    if steps is None or accepted is None:
        return None
    return RequestCounts(steps, int_field(fields, "drafted") or 0, accepted)


@per_request_counts(SOURCE)
def counts_from_toy_requests(records: Sequence[RequestRecord]) -> AcceptanceCounts | None:
    """Σ of each timed response's ``toy_spec`` counts; None unless all of them carry it."""
    return sum_request_counts(records, "toy_spec", _request_counts, "toy:per_request")


@acceptance_source(SOURCE)
class ToyStats(AcceptanceStrategy):
    """``/stats`` totals after the window minus those before it."""

    _before: Mapping[str, Any] = MappingProxyType({})

    async def begin(self) -> None:
        self._before = await self.reader.json(self.reader.url)

    async def end(self, records: Sequence[RequestRecord]) -> AcceptanceCounts | None:
        exact = self.exact(records)
        if exact is not None:
            return exact
        after = await self.reader.json(self.reader.url)

        def diff(key: str) -> int:
            return int(after[key]) - int(self._before[key])

        return AcceptanceCounts(
            drafts=diff("steps"),
            draft_tokens=diff("drafted"),
            accepted_tokens=diff("accepted"),
            source="toy:stats",
        )
