"""Tokenizers the workload builders count with: the served model's own, over HTTP.

Everything goes through the small :class:`Tokenizer` protocol so the exact-length builder can be
tested with a fake tokenizer and run against any server that exposes one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import httpx

from specscope.errors import UserError
from specscope.workload.prompt import ChatMessage


@runtime_checkable
class Tokenizer(Protocol):
    """What the workload builders need from a tokenizer."""

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        """Token ids of ``text``; with ``add_special`` also the tokens the server adds (BOS)."""
        ...

    def detokenize(self, ids: Sequence[int]) -> str:
        """Text of ``ids``."""
        ...

    def count_chat(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens the server processes for ``messages`` once its chat template is applied."""
        ...


def _messages_json(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


class _HttpTokenizer:
    """Shared plumbing: one sync HTTP client, one clear error on failure."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._client.post(path, json=body)
        except httpx.HTTPError as exc:
            raise UserError(
                f"tokenizer call POST {self.base_url}{path} failed ({exc}); "
                "start the server first or point --endpoint at it"
            ) from exc
        if response.status_code != 200:
            raise UserError(
                f"tokenizer call POST {self.base_url}{path} returned HTTP {response.status_code}: "
                f"{response.text[:200]!r}; check the server supports {path}"
            )
        data: Any = response.json()
        if not isinstance(data, dict):
            raise UserError(f"tokenizer call POST {self.base_url}{path} did not return an object")
        return data

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> _HttpTokenizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _int_list(value: Any, where: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
        raise UserError(f"{where} did not return a list of token ids")
    return list(value)


class LlamaCppTokenizer(_HttpTokenizer):
    """llama.cpp ``llama-server``: ``/tokenize``, ``/detokenize``, ``/apply-template``."""

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        data = self._post("/tokenize", {"content": text, "add_special": add_special})
        return _int_list(data.get("tokens"), "/tokenize")

    def detokenize(self, ids: Sequence[int]) -> str:
        data = self._post("/detokenize", {"tokens": list(ids)})
        return str(data.get("content", ""))

    def apply_template(self, messages: Sequence[ChatMessage]) -> str:
        """The prompt text the server builds from ``messages`` (its chat template)."""
        data = self._post("/apply-template", {"messages": _messages_json(messages)})
        return str(data.get("prompt", ""))

    def count_chat(self, messages: Sequence[ChatMessage]) -> int:
        # The rendered template is tokenised the way the chat endpoint does it: BOS added,
        # special-token text (``<start_of_turn>``...) parsed as special tokens.
        prompt = self.apply_template(messages)
        data = self._post(
            "/tokenize", {"content": prompt, "add_special": True, "parse_special": True}
        )
        return len(_int_list(data.get("tokens"), "/tokenize"))


class VllmTokenizer(_HttpTokenizer):
    """vLLM's ``/tokenize`` and ``/detokenize`` (which also apply the chat template)."""

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, timeout_s=timeout_s, transport=transport)
        self._model = model

    @property
    def model(self) -> str:
        """The served model name (asked from ``/v1/models`` when not given)."""
        if self._model is None:
            try:
                response = self._client.get("/v1/models")
                response.raise_for_status()
                self._model = str(response.json()["data"][0]["id"])
            except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
                raise UserError(
                    f"could not read the model name from {self.base_url}/v1/models ({exc}); "
                    "pass the served model name"
                ) from exc
        return self._model

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        body = {"model": self.model, "prompt": text, "add_special_tokens": add_special}
        return _int_list(self._post("/tokenize", body).get("tokens"), "/tokenize")

    def detokenize(self, ids: Sequence[int]) -> str:
        data = self._post("/detokenize", {"model": self.model, "tokens": list(ids)})
        return str(data.get("prompt", ""))

    def count_chat(self, messages: Sequence[ChatMessage]) -> int:
        body = {
            "model": self.model,
            "messages": _messages_json(messages),
            "add_generation_prompt": True,
        }
        return len(_int_list(self._post("/tokenize", body).get("tokens"), "/tokenize"))
