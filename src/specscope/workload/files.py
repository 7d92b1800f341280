"""Prompt files: JSON Lines, one prompt object per line.

Each line holds ``prompt`` (a string, or a list of token ids) or ``messages`` (a list of
``{"role", "content"}`` objects), and optionally ``output_tokens``, ``category`` and ``id``.
Blank lines are skipped. Any other key is an error, so a misspelt ``output_tokens`` is caught
instead of silently ignored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from specscope.errors import UserError
from specscope.workload.prompt import ChatMessage, Prompt

ALLOWED_KEYS = frozenset({"prompt", "messages", "output_tokens", "category", "id"})


def _bad(where: str, problem: str) -> UserError:
    return UserError(f"{where}: {problem}")


def _parse_messages(value: Any, where: str) -> list[ChatMessage]:
    if not isinstance(value, list) or not value:
        raise _bad(where, '"messages" must be a non-empty list of {"role", "content"} objects')
    messages = []
    for k, item in enumerate(value):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("role"), str)
            or not item["role"]
            or not isinstance(item.get("content"), str)
        ):
            raise _bad(where, f'messages[{k}] must be {{"role": str, "content": str}}')
        messages.append(ChatMessage(role=item["role"], content=item["content"]))
    return messages


def parse_prompt_line(
    obj: Any, *, where: str, default_id: str, default_category: str = ""
) -> Prompt:
    """One decoded JSONL object as a :class:`Prompt`; ``where`` is ``file:line`` for errors."""
    if not isinstance(obj, dict):
        raise _bad(where, f"expected a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - ALLOWED_KEYS)
    if unknown:
        raise _bad(
            where,
            f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(ALLOWED_KEYS))}",
        )
    has_prompt, has_messages = "prompt" in obj, "messages" in obj
    if has_prompt == has_messages:
        raise _bad(where, 'give exactly one of "prompt" or "messages"')

    text: str | None = None
    token_ids: list[int] | None = None
    messages: list[ChatMessage] | None = None
    if has_prompt:
        value = obj["prompt"]
        if isinstance(value, str):
            if not value:
                raise _bad(where, '"prompt" is empty')
            text = value
        elif (
            isinstance(value, list)
            and value
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        ):
            token_ids = list(value)
        else:
            raise _bad(where, '"prompt" must be a non-empty string or a list of token ids')
    else:
        messages = _parse_messages(obj["messages"], where)

    output_tokens = obj.get("output_tokens")
    if output_tokens is not None and (
        not isinstance(output_tokens, int) or isinstance(output_tokens, bool) or output_tokens < 1
    ):
        raise _bad(where, f'"output_tokens" must be a positive integer, got {output_tokens!r}')
    category = obj.get("category", default_category)
    if not isinstance(category, str):
        raise _bad(where, '"category" must be a string')
    raw_id = obj.get("id", default_id)
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or str(raw_id) == "":
        raise _bad(where, '"id" must be a non-empty string or an integer')
    try:
        return Prompt(
            id=str(raw_id),
            text=text,
            token_ids=token_ids,
            messages=messages,
            input_tokens=len(token_ids) if token_ids is not None else None,
            output_tokens=output_tokens,
            category=category,
        )
    except ValidationError as exc:  # pragma: no cover - guarded by the checks above
        raise _bad(where, str(exc.errors()[0]["msg"])) from exc


def parse_prompt_lines(
    lines: list[str], *, source: str, default_category: str = ""
) -> list[Prompt]:
    """Parse JSONL text lines; ``source`` names the file in error messages."""
    prompts: list[Prompt] = []
    seen: dict[str, int] = {}
    stem = Path(source).stem
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _bad(where, f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
        prompt = parse_prompt_line(
            obj, where=where, default_id=f"{stem}-{lineno}", default_category=default_category
        )
        if prompt.id in seen:
            raise _bad(where, f"duplicate id {prompt.id!r} (first on line {seen[prompt.id]})")
        seen[prompt.id] = lineno
        prompts.append(prompt)
    if not prompts:
        raise UserError(f"{source}: no prompts found; add one JSON object per line")
    return prompts


def load_prompt_file(path: str | Path) -> list[Prompt]:
    """All prompts of a JSONL file, in file order."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UserError(f"prompt file {file} not found; check the --prompts path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"prompt file {file} could not be read ({exc})") from exc
    return parse_prompt_lines(text.splitlines(), source=str(file))
