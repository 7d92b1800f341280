"""The speculative-config mapping vLLM (``--speculative-config`` JSON) and TensorRT-LLM
(``speculative_config`` in the options YAML) read: a method, a draft depth, a draft model and
the user's params, each under the engine's own key names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from specscope.engines.base import (
    SpecSettings,
    require_draft_depth,
    require_draft_model,
    unsupported,
)
from specscope.errors import UserError


@dataclass(frozen=True)
class SpecConfigFormat:
    """How one engine spells its speculative-config mapping."""

    engine: str
    """The engine as named in error messages."""
    method_key: str
    methods: Mapping[str, str]
    """specscope method → the engine's method value."""
    depth_key: str
    """The key that takes g."""
    model_key: str
    """The key that takes the draft model."""
    needs_model: frozenset[str]
    """Method values that cannot run without a draft model."""
    model_first: bool = False
    """The draft model key (and its check) comes before the depth; else after it."""
    any_model: bool = False
    """A draft model given for a method that does not need one is passed on too."""
    conflict: str | None = None
    """Name of the mapping in the error for a param that contradicts a derived key; None: params
    replace derived keys silently."""
    refused: Mapping[str, str] = field(default_factory=dict)
    """Params refused outright: key → the error message."""

    def build(self, spec: SpecSettings) -> dict[str, Any]:
        """The mapping for ``spec`` (keys in a stable order)."""
        value = self.methods.get(spec.method)
        if value is None:
            raise unsupported(self.engine, spec, ["none", *sorted(self.methods)])
        config: dict[str, Any] = {self.method_key: value}
        if self.model_first:
            self._add_model(config, value, spec)
        config[self.depth_key] = require_draft_depth(self.engine, spec)
        for key, message in self.refused.items():
            if key in spec.params:
                raise UserError(message)
        if not self.model_first:
            self._add_model(config, value, spec)
        for key, param in spec.params.items():
            if self.conflict and key in config and config[key] != param:
                raise UserError(
                    f"{self.conflict} key {key!r} is set twice (settings give "
                    f"{config[key]!r}, params give {param!r}); keep one"
                )
            config[key] = param
        return config

    def _add_model(self, config: dict[str, Any], value: str, spec: SpecSettings) -> None:
        if value in self.needs_model:
            config[self.model_key] = require_draft_model(self.engine, spec)
        elif self.any_model and spec.draft_model:
            config[self.model_key] = spec.draft_model
