"""Prompt model, JSONL prompt files and the built-in prompt sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from specscope.errors import UserError
from specscope.workload import ChatMessage, Prompt, list_categories, load_builtin, load_prompt_file


def _file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "prompts.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_prompt_needs_some_input() -> None:
    with pytest.raises(ValidationError, match="needs text, token_ids or messages"):
        Prompt(id="x")


@pytest.mark.parametrize(
    ("kwargs", "kind"),
    [
        ({"text": "hi"}, "text"),
        ({"token_ids": [1, 2]}, "tokens"),
        ({"messages": [ChatMessage(role="user", content="hi")]}, "messages"),
        ({"text": "hi", "messages": [ChatMessage(role="user", content="hi")]}, "messages"),
    ],
)
def test_prompt_kind(kwargs: dict[str, object], kind: str) -> None:
    assert Prompt.model_validate({"id": "x", **kwargs}).kind == kind


def test_load_file_reads_every_form(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        json.dumps({"prompt": "Tell me a joke.", "output_tokens": 50, "category": "chat"}),
        "",
        json.dumps({"prompt": [2, 9259, 1902], "id": 7}),
        json.dumps(
            {
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi"},
                ],
                "id": "m",
            }
        ),
    )
    a, b, c = load_prompt_file(path)
    assert (a.id, a.text, a.output_tokens, a.category) == (
        "prompts-1",
        "Tell me a joke.",
        50,
        "chat",
    )
    # token ids: their count is the input length
    assert (b.id, b.token_ids, b.input_tokens, b.output_tokens) == ("7", [2, 9259, 1902], 3, None)
    assert c.messages == [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Hi"),
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "prompts.jsonl:2: not valid JSON"),
        ("[1, 2]", "prompts.jsonl:2: expected a JSON object, got list"),
        ('{"promt": "typo"}', "prompts.jsonl:2: unknown key\\(s\\) promt; allowed: category, id"),
        ('{"prompt": "a", "messages": []}', 'prompts.jsonl:2: give exactly one of "prompt"'),
        ("{}", 'prompts.jsonl:2: give exactly one of "prompt" or "messages"'),
        ('{"prompt": ""}', 'prompts.jsonl:2: "prompt" is empty'),
        ('{"prompt": [1, -2]}', 'prompts.jsonl:2: "prompt" must be a non-empty string or a list'),
        ('{"prompt": 5}', 'prompts.jsonl:2: "prompt" must be a non-empty string or a list'),
        ('{"messages": []}', 'prompts.jsonl:2: "messages" must be a non-empty list'),
        ('{"messages": [{"role": "user"}]}', "prompts.jsonl:2: messages\\[0\\] must be"),
        (
            '{"prompt": "a", "output_tokens": 0}',
            '"output_tokens" must be a positive integer, got 0',
        ),
        ('{"prompt": "a", "output_tokens": "64"}', '"output_tokens" must be a positive integer'),
        ('{"prompt": "a", "output_tokens": true}', '"output_tokens" must be a positive integer'),
        ('{"prompt": "a", "category": 3}', '"category" must be a string'),
        ('{"prompt": "a", "id": ""}', '"id" must be a non-empty string or an integer'),
        (
            '{"prompt": "a", "id": "first"}',
            "prompts.jsonl:2: duplicate id 'first' \\(first on line 1\\)",
        ),
    ],
)
def test_bad_line_names_file_line_and_problem(tmp_path: Path, line: str, problem: str) -> None:
    path = _file(tmp_path, '{"prompt": "fine", "id": "first"}', line)
    with pytest.raises(UserError, match=problem):
        load_prompt_file(path)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found; check the --prompts path"):
        load_prompt_file(tmp_path / "nope.jsonl")
    with pytest.raises(UserError, match="no prompts found"):
        load_prompt_file(_file(tmp_path, "", "   "))


EXPECTED_CATEGORIES = ["chat", "code", "reasoning", "repetitive", "summarisation"]


def test_builtin_categories() -> None:
    assert list_categories() == EXPECTED_CATEGORIES


@pytest.mark.parametrize("category", EXPECTED_CATEGORIES)
def test_builtin_sets_are_sizeable_varied_and_well_formed(category: str) -> None:
    prompts = load_builtin(category)
    assert 12 <= len(prompts) <= 20
    assert {p.category for p in prompts} == {category}
    assert len({p.id for p in prompts}) == len(prompts)
    assert all(p.id.startswith(f"{category}-") for p in prompts)
    lengths = sorted(len(p.text or "") for p in prompts)
    assert lengths[0] > 50
    assert lengths[-1] > 1.5 * lengths[0]  # varied length


def test_builtin_all_and_unknown() -> None:
    assert len(load_builtin("all")) == sum(len(load_builtin(c)) for c in EXPECTED_CATEGORIES)
    with pytest.raises(UserError, match="unknown built-in prompt set 'poetry'; choose one of chat"):
        load_builtin("poetry")


def test_code_prompts_hold_code_and_repetitive_prompts_ask_for_structure() -> None:
    assert all("```" in (p.text or "") for p in load_builtin("code"))
    structured = ("JSON", "YAML", "table", "list", "same", "line", "INSERT", "enum", "mkdir")
    assert all(any(w in (p.text or "") for w in structured) for p in load_builtin("repetitive"))
