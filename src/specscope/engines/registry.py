"""Engines by key: each engine module registers its :class:`Engine` class here.

The built-in engines register when ``specscope.engines`` is imported; another module registers
its own with ``@register_engine`` on import, and every lookup below then knows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from specscope.engines.base import Engine, no_tokenizer
from specscope.errors import UserError

if TYPE_CHECKING:
    from specscope.workload.tokenizer import Tokenizer

E = TypeVar("E", bound=type[Engine])

_ENGINES: dict[str, type[Engine]] = {}
_SPELLINGS: dict[str, str] = {}
"""Every accepted spelling (key or alias, lowercase) → engine key."""


def register_engine(cls: E) -> E:
    """Class decorator: ``cls`` becomes the engine for its ``name`` and ``aliases``."""
    key = cls.name
    for spelling in (key, *cls.aliases):
        owner = _SPELLINGS.get(spelling)
        if owner is not None and owner != key:
            raise ValueError(f"engine spelling {spelling!r} is taken by {owner!r}")
    _ENGINES[key] = cls
    for spelling in (key, *cls.aliases):
        _SPELLINGS[spelling] = key
    return cls


def engine_keys() -> tuple[str, ...]:
    """Engine keys, as stored in ``PointConfig.engine``, in registration order."""
    return tuple(_ENGINES)


def engine_key(name: str) -> str:
    """The canonical engine key for a user-typed name (``llama.cpp`` → ``llamacpp``)."""
    key = _SPELLINGS.get(name.strip().lower())
    if key is None:
        raise UserError(f"unknown engine {name!r}; choose one of {', '.join(_ENGINES)}")
    return key


def get_recipe(name: str) -> Engine:
    """A fresh recipe for the named engine."""
    return _ENGINES[engine_key(name)]()


def _registered(key: str) -> Engine | None:
    cls = _ENGINES.get(key)
    return cls() if cls is not None else None


def server_tokenizer(engine: str, base_url: str, model: str | None = None) -> Tokenizer:
    """The tokenizer of a running server, for engines that expose one over HTTP."""
    recipe = _registered(engine)
    if recipe is None:
        raise no_tokenizer(engine)
    return recipe.tokenizer(base_url, model)


def request_defaults(engine: str) -> dict[str, Any]:
    """Body fields every load request to ``engine`` carries (empty for an unknown engine)."""
    recipe = _registered(engine)
    return dict(recipe.request_defaults) if recipe is not None else {}


def metric_prefixes() -> tuple[str, ...]:
    """Prefixes of the registered engines' Prometheus spec-decoding counters."""
    return tuple(p for cls in _ENGINES.values() if (p := cls.metric_prefix) is not None)
