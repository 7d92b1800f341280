"""A workload (what to send) and the one function that turns it into timed and warm-up prompts.

Paired design: for a given seed, :func:`build` returns the same prompts every time, so spec-off
and every spec config are measured on identical input.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from specscope.errors import UserError
from specscope.workload.builtin import load_builtin
from specscope.workload.files import load_prompt_file
from specscope.workload.prompt import ChatMessage, Prompt
from specscope.workload.synthetic import random_word_text, synthetic_prompt
from specscope.workload.tokenizer import Tokenizer

SYNTHETIC = "synthetic"
FILE = "file"
BUILTIN_PREFIX = "builtin:"

_FILLER_WORDS = 48
"""Length, in words, of warm-up prompts made up when a prompt set is too small to spare any."""


class Workload(BaseModel):
    """What the client sends: a prompt source plus lengths, count and seed."""

    model_config = ConfigDict(frozen=True)

    source: str
    """``synthetic``, ``file`` (with ``path``) or ``builtin:<category>`` (``builtin:all`` too)."""
    name: str = ""
    """Display name; derived from the source when empty (see :attr:`label`)."""
    path: str | None = None
    isl: int | None = Field(default=None, ge=1)
    """Input tokens per prompt (synthetic only), exact, as the server counts them."""
    osl: int = Field(ge=1)
    """Output tokens per request, unless a prompt file line sets its own ``output_tokens``."""
    num_prompts: int | None = Field(default=None, ge=1)
    """Distinct prompts to draw; timed requests cycle over them. None: all (file, builtin) or
    one per timed request (synthetic)."""
    seed: int = 0
    chat_template: bool = False
    """Send prompts as chat messages (the server applies the model's template)."""

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value in (SYNTHETIC, FILE) or (
            value.startswith(BUILTIN_PREFIX) and len(value) > len(BUILTIN_PREFIX)
        ):
            return value
        raise ValueError(
            f"unknown workload source {value!r}; use synthetic, file or builtin:<category>"
        )

    @model_validator(mode="after")
    def _source_fields(self) -> Workload:
        if self.source == SYNTHETIC and self.isl is None:
            raise ValueError("a synthetic workload needs isl (input tokens per prompt)")
        if self.source == FILE and not self.path:
            raise ValueError("a file workload needs path (the JSONL prompt file)")
        return self

    @property
    def kind(self) -> Literal["synthetic", "file", "builtin"]:
        if self.source == SYNTHETIC:
            return "synthetic"
        return "file" if self.source == FILE else "builtin"

    @property
    def label(self) -> str:
        """``name`` if given, else e.g. ``synthetic-1024x256``, ``builtin:code``, ``file:mine``."""
        if self.name:
            return self.name
        if self.source == SYNTHETIC:
            return f"synthetic-{self.isl}x{self.osl}"
        if self.source == FILE:
            stem = (self.path or "").rsplit("/", 1)[-1].removesuffix(".jsonl")
            return f"file:{stem}"
        return self.source


def _count(prompt: Prompt, tokenizer: Tokenizer) -> int:
    if prompt.token_ids is not None and prompt.messages is None and prompt.text is None:
        return len(prompt.token_ids)
    if prompt.messages is not None:
        return tokenizer.count_chat(prompt.messages)
    return len(tokenizer.tokenize(prompt.text or "", add_special=True))


def _finish(prompt: Prompt, workload: Workload, tokenizer: Tokenizer | None) -> Prompt:
    """Fill the output length, wrap text as a chat message when asked, count input tokens."""
    update: dict[str, object] = {}
    if prompt.output_tokens is None:
        update["output_tokens"] = workload.osl
    if workload.chat_template and prompt.messages is None and prompt.text is not None:
        update["messages"] = [ChatMessage(role="user", content=prompt.text)]
        update["text"] = None
    result = prompt.model_copy(update=update) if update else prompt
    if tokenizer is not None and result.input_tokens is None:
        result = result.model_copy(update={"input_tokens": _count(result, tokenizer)})
    return result


def _filler_warmup(workload: Workload, index: int, tokenizer: Tokenizer | None) -> Prompt:
    rng = random.Random(f"specscope-warmup/{workload.seed}/{index}")
    prompt = Prompt(
        id=f"warmup-{workload.seed}-{index}",
        text=random_word_text(_FILLER_WORDS, rng),
        category="warmup",
    )
    return _finish(prompt, workload, tokenizer)


def _load_pool(workload: Workload) -> list[Prompt]:
    if workload.source == FILE:
        return load_prompt_file(workload.path or "")
    return load_builtin(workload.source.removeprefix(BUILTIN_PREFIX))


def build(
    workload: Workload,
    tokenizer: Tokenizer | None,
    n_timed: int | None = None,
    n_warmup: int = 0,
) -> tuple[list[Prompt], list[Prompt]]:
    """(timed, warm-up) prompts for ``workload``; deterministic for its seed.

    Warm-up prompts never repeat a timed prompt (a shared prefix would hit the prefix cache,
    and n-gram drafters would learn the timed text). Synthetic prompts need ``tokenizer`` for
    their exact lengths; other sources use it, when given, only to fill ``input_tokens``.
    """
    if n_warmup < 0:
        raise UserError(f"warm-up count must be >= 0, got {n_warmup}")
    n = n_timed if n_timed is not None else workload.num_prompts
    if workload.source == SYNTHETIC:
        return _build_synthetic(workload, tokenizer, n, n_warmup)

    pool = _load_pool(workload)
    order = list(range(len(pool)))
    random.Random(f"specscope-order/{workload.seed}").shuffle(order)
    shuffled = [pool[i] for i in order]
    if n_warmup and len(shuffled) >= 2 * n_warmup:
        warmup_src, rest = shuffled[:n_warmup], shuffled[n_warmup:]
        warmup = [_finish(p, workload, tokenizer) for p in warmup_src]
    else:
        rest = shuffled
        warmup = [_filler_warmup(workload, i, tokenizer) for i in range(n_warmup)]
    if workload.num_prompts is not None:
        rest = rest[: workload.num_prompts]
    distinct = [_finish(p, workload, tokenizer) for p in rest]
    if n is None:
        n = len(distinct)
    if n < 1:
        raise UserError(f"timed prompt count must be >= 1, got {n}")
    return [distinct[i % len(distinct)] for i in range(n)], warmup


def _build_synthetic(
    workload: Workload, tokenizer: Tokenizer | None, n: int | None, n_warmup: int
) -> tuple[list[Prompt], list[Prompt]]:
    if tokenizer is None:
        raise UserError(
            "synthetic prompts at exact lengths need the model's tokenizer; start the server "
            "(its /tokenize is used) or name a local tokenizer"
        )
    if n is None:
        raise UserError("say how many synthetic prompts to send (num_prompts or --num-prompts)")
    if n < 1:
        raise UserError(f"timed prompt count must be >= 1, got {n}")
    isl = workload.isl or 0  # never 0: the model validator requires isl for synthetic

    def make(role: str, index: int) -> Prompt:
        return synthetic_prompt(
            tokenizer,
            input_tokens=isl,
            output_tokens=workload.osl,
            seed=workload.seed,
            role=role,
            index=index,
            chat=workload.chat_template,
        )

    n_distinct = min(workload.num_prompts or n, n)
    distinct = [make("timed", i) for i in range(n_distinct)]
    warmup = [make("warmup", i) for i in range(n_warmup)]
    return [distinct[i % n_distinct] for i in range(n)], warmup
