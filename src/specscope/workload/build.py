"""A workload (what to send) and the one function that turns it into timed and warm-up prompts.

Paired design: for a given seed, :func:`build` returns the same prompts every time, so spec-off
and every spec config are measured on identical input.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from specscope import __version__
from specscope.errors import UserError
from specscope.workload.builtin import ALL, list_categories, load_builtin
from specscope.workload.datasets import (
    DATASETS,
    HUMANEVAL,
    SHAREGPT,
    Conversation,
    LengthRules,
    dataset_file,
    load_humaneval,
    load_sharegpt,
    vllm_sharegpt_rules,
)
from specscope.workload.files import load_prompt_file
from specscope.workload.prompt import ChatMessage, Prompt
from specscope.workload.synthetic import random_word_text, synthetic_prompt
from specscope.workload.tokenizer import Tokenizer

SYNTHETIC = "synthetic"
FILE = "file"
BUILTIN_PREFIX = "builtin:"
REPLY = "reply"
"""``osl_from`` value: each request's output length is its recorded reply's token count."""

_FILLER_WORDS = 48
"""Length, in words, of warm-up prompts made up when a prompt set is too small to spare any."""


def source_problem(source: str, *, file_form: str = FILE) -> str | None:
    """Why ``source`` is not a workload source, or None when it is one; ``file_form`` is how
    the message spells the file source (a recipe writes ``file:<path.jsonl>``)."""
    if source in (SYNTHETIC, FILE) or source in DATASETS:
        return None
    if source.startswith(BUILTIN_PREFIX) and len(source) > len(BUILTIN_PREFIX):
        categories = [*list_categories(), ALL]
        if source.removeprefix(BUILTIN_PREFIX) in categories:
            return None
        return f"unknown built-in prompt set {source!r}; choose one of {', '.join(categories)}"
    return (
        f"unknown workload source {source!r}; use synthetic, {file_form}, builtin:<category> or a "
        f"public set ({', '.join(DATASETS)})"
    )


class Workload(BaseModel):
    """What the client sends: a prompt source plus lengths, count and seed."""

    model_config = ConfigDict(frozen=True)

    source: str
    """``synthetic``, ``file`` (with ``path``), ``builtin:<category>`` (``builtin:all`` too), or
    a public set: ``humaneval`` or ``sharegpt`` (see :mod:`specscope.workload.datasets`)."""
    name: str = ""
    """Display name; derived from the source when empty (see :attr:`label`)."""
    path: str | None = None
    isl: int | None = Field(default=None, ge=1)
    """Input tokens per prompt (synthetic only), exact, as the server counts them."""
    osl: int | None = Field(default=None, ge=1)
    """Output tokens per request, unless a prompt file line sets its own ``output_tokens``.
    Required, except with ``osl_from = "reply"``, where it must be left out."""
    osl_from: Literal["fixed", "reply"] = "fixed"
    """``fixed``: every request asks for ``osl`` tokens. ``reply`` (sharegpt only; the peers'
    default): each request asks for as many tokens as its conversation's recorded reply has,
    counted with the served model's tokenizer."""
    num_prompts: int | None = Field(default=None, ge=1)
    """Distinct prompts to draw; timed requests cycle over them. None: all (file, builtin,
    humaneval) or one per timed request (synthetic, sharegpt)."""
    max_input_tokens: int | None = Field(default=None, ge=1)
    """Skip prompts longer than this many input tokens (as the server counts them). For
    sharegpt it replaces vLLM's bound of 1024; elsewhere None means no bound."""
    max_total_tokens: int | None = Field(default=None, ge=1)
    """Skip prompts whose input + requested output tokens exceed this (e.g. a server's context
    per slot). For sharegpt it replaces vLLM's bound of 2048; elsewhere None means no bound."""
    seed: int = 0
    chat_template: bool = False
    """Send prompts as chat messages (the server applies the model's template)."""

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        problem = source_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _source_fields(self) -> Workload:
        if self.source == SYNTHETIC and self.isl is None:
            raise ValueError("a synthetic workload needs isl (input tokens per prompt)")
        if self.source == FILE and not self.path:
            raise ValueError("a file workload needs path (the JSONL prompt file)")
        if self.osl_from == REPLY:
            if self.source != SHAREGPT.name:
                raise ValueError(
                    f"osl_from = 'reply' needs recorded replies: only source {SHAREGPT.name!r} "
                    f"has them, not {self.source!r}"
                )
            if self.osl is not None:
                raise ValueError(
                    "osl_from = 'reply' takes each request's output length from its reply; "
                    "leave osl out (or use osl_from = 'fixed')"
                )
        elif self.osl is None:
            raise ValueError("a workload needs osl (output tokens per request)")
        if self.source == SYNTHETIC and (self.max_input_tokens or self.max_total_tokens):
            raise ValueError(
                "max_input_tokens and max_total_tokens filter prompt sets; synthetic prompts "
                "have exactly isl tokens"
            )
        return self

    @property
    def kind(self) -> Literal["synthetic", "file", "builtin", "public"]:
        """The source family; ``public`` for the sets in :data:`DATASETS`."""
        if self.source == SYNTHETIC:
            return "synthetic"
        if self.source in DATASETS:
            return "public"
        return "file" if self.source == FILE else "builtin"

    @property
    def needs_tokenizer(self) -> bool:
        """Whether :func:`build` fails without a tokenizer: synthetic lengths, ShareGPT's length
        filter and reply lengths, and any ``max_*_tokens`` bound are counted in tokens."""
        return (
            self.source in (SYNTHETIC, SHAREGPT.name)
            or self.max_input_tokens is not None
            or self.max_total_tokens is not None
        )

    @property
    def label(self) -> str:
        """``name`` if given, else e.g. ``synthetic-1024x256``, ``builtin:code``, ``file:mine``,
        ``sharegpt-reply``."""
        if self.name:
            return self.name
        if self.source == SYNTHETIC:
            return f"synthetic-{self.isl}x{self.osl}"
        if self.source == FILE:
            stem = (self.path or "").rsplit("/", 1)[-1].removesuffix(".jsonl")
            return f"file:{stem}"
        if self.osl_from == REPLY:
            return f"{self.source}-{REPLY}"
        return self.source


def workload_source(workload: Workload) -> dict[str, str]:
    """Where the prompts of ``workload`` come from, to store with each measured point.

    Keys: ``name`` (the source), ``package`` (the pip requirement that carries the prompts;
    empty for a user's file), ``licence`` and ``origin`` (a URL, a package path or a file path).
    """
    public = DATASETS.get(workload.source)
    if public is not None:
        return {
            "name": public.name,
            "package": public.requirement,
            "licence": public.licence,
            "origin": public.origin,
        }
    ours = f"specscope=={__version__}"
    if workload.source == FILE:
        return {
            "name": FILE,
            "package": "",
            "licence": "unknown (the user's own prompt file)",
            "origin": workload.path or "",
        }
    if workload.source == SYNTHETIC:
        return {
            "name": SYNTHETIC,
            "package": ours,
            "licence": "Apache-2.0 (generated by specscope)",
            "origin": "random words from specscope.workload.synthetic's word list",
        }
    category = workload.source.removeprefix(BUILTIN_PREFIX)
    files = "*" if category == ALL else category
    return {
        "name": workload.source,
        "package": ours,
        "licence": "Apache-2.0 (specscope's own prompts)",
        "origin": f"specscope/data/prompts/{files}.jsonl",
    }


def median_output_tokens(prompts: Sequence[Prompt]) -> int | None:
    """Median requested output tokens over ``prompts`` (rounded to a whole token), the value
    to store as a point's ``osl`` when lengths vary per request (reply lengths, or prompt file
    lines with their own ``output_tokens``); None when no prompt says."""
    counts = [p.output_tokens for p in prompts if p.output_tokens is not None]
    return round(statistics.median(counts)) if counts else None


def _count(prompt: Prompt, tokenizer: Tokenizer) -> int:
    if prompt.token_ids is not None and prompt.messages is None and prompt.text is None:
        return len(prompt.token_ids)
    if prompt.messages is not None:
        return tokenizer.count_chat(prompt.messages)
    return len(tokenizer.tokenize(prompt.text or "", add_special=True))


def _finish(prompt: Prompt, workload: Workload, tokenizer: Tokenizer | None) -> Prompt:
    """Fill the output length, wrap text as a chat message when asked, count input tokens."""
    update: dict[str, object] = {}
    if prompt.output_tokens is None and workload.osl is not None:
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
        output_tokens=workload.osl or _FILLER_WORDS,  # reply mode: no osl, as many as words
    )
    return _finish(prompt, workload, tokenizer)


def check_available(workload: Workload) -> None:
    """Raise the :class:`UserError` a run would meet when it reads this workload's prompts (a
    prompt file that is missing, not UTF-8 or malformed; a public set whose package is absent),
    without a tokenizer or a server, so ``sweep --dry-run`` finds it before anything starts."""
    if workload.source == FILE:
        load_prompt_file(workload.path or "")
    elif workload.source in DATASETS:
        dataset_file(DATASETS[workload.source])


def _load_pool(workload: Workload) -> Sequence[Prompt] | Sequence[Conversation]:
    if workload.source == FILE:
        return load_prompt_file(workload.path or "")
    if workload.source == HUMANEVAL.name:
        return load_humaneval(dataset_file(HUMANEVAL))
    if workload.source == SHAREGPT.name:
        return load_sharegpt(dataset_file(SHAREGPT)).conversations
    return load_builtin(workload.source.removeprefix(BUILTIN_PREFIX))


def _length_rules(workload: Workload) -> LengthRules | None:
    if workload.source == SHAREGPT.name:
        return vllm_sharegpt_rules(
            reply_osl=workload.osl_from == REPLY,
            max_input_tokens=workload.max_input_tokens,
            max_total_tokens=workload.max_total_tokens,
        )
    if workload.max_input_tokens is None and workload.max_total_tokens is None:
        return None
    return LengthRules(
        max_input_tokens=workload.max_input_tokens, max_total_tokens=workload.max_total_tokens
    )


def _admitted(
    pool: Sequence[Prompt] | Sequence[Conversation],
    order: Sequence[int],
    workload: Workload,
    tokenizer: Tokenizer | None,
) -> Iterator[Prompt]:
    """Finished prompts of ``pool`` in ``order`` that pass the workload's length rules.

    Work is lazy: a prompt is tokenised only when the caller asks for the next one. A ShareGPT
    first turn already admitted is skipped when another conversation repeats it, so no two
    requests (warm-up or timed) send the same ShareGPT prompt.
    """
    rules = _length_rules(workload)
    seen: set[str] = set()
    for index in order:
        item = pool[index]
        first_turn = reply = None
        if isinstance(item, Conversation):
            if item.prompt in seen:
                continue
            first_turn, reply = item.prompt, item.reply
            item = Prompt(id=item.id, text=first_turn, category=SHAREGPT.category)
        prompt = _finish(item, workload, tokenizer)
        if rules is None or tokenizer is None:  # needs_tokenizer: no rules without one
            yield prompt
            continue
        n_input = prompt.input_tokens
        if n_input is None:  # pragma: no cover - _finish counts whenever a tokenizer is given
            n_input = _count(prompt, tokenizer)
        if not rules.admits(n_input, rules.min_output_tokens):
            continue  # the input alone fails: spare the reply's tokenisation
        if reply is not None and workload.osl_from == REPLY:
            n_output = len(tokenizer.tokenize(reply, add_special=False))
        else:
            n_output = prompt.output_tokens or 0
        if not rules.admits(n_input, n_output):
            continue
        if first_turn is not None:
            seen.add(first_turn)
        yield prompt.model_copy(update={"output_tokens": n_output})


def build(
    workload: Workload,
    tokenizer: Tokenizer | None,
    n_timed: int | None = None,
    n_warmup: int = 0,
) -> tuple[list[Prompt], list[Prompt]]:
    """(timed, warm-up) prompts for ``workload``; deterministic for its seed.

    Prompt sets are shuffled by the seed and walked in that order, keeping the prompts that pass
    the length rules (ShareGPT: vLLM's; others: ``max_*_tokens`` when set) until enough are
    found: warm-ups first, then the distinct timed prompts, which timed requests cycle over.
    Only the prompts walked are tokenised. Warm-up prompts never repeat a timed prompt (a
    shared prefix would hit the prefix cache, and n-gram drafters would learn the timed text).
    Synthetic prompts, ShareGPT and length bounds need ``tokenizer``; other sources use it,
    when given, only to fill ``input_tokens``.
    """
    if n_warmup < 0:
        raise UserError(f"warm-up count must be >= 0, got {n_warmup}")
    n = n_timed if n_timed is not None else workload.num_prompts
    if workload.source == SYNTHETIC:
        return _build_synthetic(workload, tokenizer, n, n_warmup)
    if tokenizer is None and workload.needs_tokenizer:
        raise UserError(
            f"the {workload.label} workload counts tokens (length filters"
            f"{', reply lengths' if workload.osl_from == REPLY else ''}) and needs the model's "
            "tokenizer; start the server (its /tokenize is used) or name a local tokenizer"
        )
    if n is not None and n < 1:
        raise UserError(f"timed prompt count must be >= 1, got {n}")
    if n is None and workload.source == SHAREGPT.name:
        raise UserError("say how many sharegpt prompts to send (num_prompts or --num-prompts)")

    pool = _load_pool(workload)
    order = list(range(len(pool)))
    random.Random(f"specscope-order/{workload.seed}").shuffle(order)
    admitted = _admitted(pool, order, workload, tokenizer)
    if n_warmup and len(pool) >= 2 * n_warmup:
        warmup = list(islice(admitted, n_warmup))
    else:
        warmup = [_filler_warmup(workload, i, tokenizer) for i in range(n_warmup)]
    wanted = [k for k in (workload.num_prompts, n) if k is not None]
    distinct = list(islice(admitted, min(wanted) if wanted else None))
    if not distinct:
        raise UserError(
            f"no prompt of the {workload.label} workload is left for timed requests "
            f"({len(pool)} in the set, {len(warmup)} taken for warm-up); relax "
            "max_input_tokens / max_total_tokens or ask for fewer warm-ups"
        )
    if n is None:
        n = len(distinct)
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
    osl = workload.osl or 0  # never 0: only sharegpt may leave osl out

    def make(role: str, index: int) -> Prompt:
        return synthetic_prompt(
            tokenizer,
            input_tokens=isl,
            output_tokens=osl,
            seed=workload.seed,
            role=role,
            index=index,
            chat=workload.chat_template,
        )

    n_distinct = min(workload.num_prompts or n, n)
    distinct = [make("timed", i) for i in range(n_distinct)]
    warmup = [make("warmup", i) for i in range(n_warmup)]
    return [distinct[i % n_distinct] for i in range(n)], warmup
