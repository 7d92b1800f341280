"""Built-in prompt sets by category, shipped as JSONL under ``specscope/data/prompts``.

Acceptance depends on the text: n-gram drafting thrives on repetitive, structured output and
starves on free prose, so each category is kept apart and can be measured on its own.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from specscope.errors import UserError
from specscope.workload.files import parse_prompt_lines
from specscope.workload.prompt import Prompt

ALL = "all"
"""Pseudo-category: every built-in set, categories in alphabetical order."""


def _prompt_dir() -> Traversable:
    return resources.files("specscope").joinpath("data", "prompts")


def list_categories() -> list[str]:
    """Names of the built-in prompt sets, sorted."""
    return sorted(
        entry.name.removesuffix(".jsonl")
        for entry in _prompt_dir().iterdir()
        if entry.is_file() and entry.name.endswith(".jsonl")
    )


def load_builtin(category: str) -> list[Prompt]:
    """The prompts of one built-in set (or of all of them with ``all``), in file order."""
    categories = list_categories()
    if category == ALL:
        return [p for name in categories for p in load_builtin(name)]
    if category not in categories:
        raise UserError(
            f"unknown built-in prompt set {category!r}; choose one of "
            f"{', '.join([*categories, ALL])}"
        )
    entry = _prompt_dir().joinpath(f"{category}.jsonl")
    return parse_prompt_lines(
        entry.read_text(encoding="utf-8").splitlines(),
        source=f"builtin:{category}",
        default_category=category,
    )
