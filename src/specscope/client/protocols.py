"""Request bodies for the APIs the client speaks, and their endpoint paths.

``completions``  OpenAI ``POST /v1/completions`` (vLLM, SGLang, TensorRT-LLM, llama.cpp)
``chat``         OpenAI ``POST /v1/chat/completions``
``llamacpp``     llama.cpp's native ``POST /completion``
``sglang``       SGLang's native ``POST /generate`` (its ``meta_info`` carries per-request
                 spec-decoding counts that the OpenAI routes leave out)

The streamed responses are parsed in ``stream.py``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from specscope.errors import UserError

ApiKind = Literal["completions", "chat", "llamacpp", "sglang"]
API_KINDS: tuple[ApiKind, ...] = ("completions", "chat", "llamacpp", "sglang")

_PATHS: dict[ApiKind, str] = {
    "completions": "/v1/completions",
    "chat": "/v1/chat/completions",
    "llamacpp": "/completion",
    "sglang": "/generate",
}


class BenchPrompt(BaseModel):
    """One prompt to send: text or prompt token ids, with the exact output length wanted."""

    model_config = ConfigDict(frozen=True)

    prompt: str | list[int]
    output_tokens: int | None = Field(default=None, ge=1)
    """Exact output length requested (sent as ``max_tokens``/``n_predict`` with ``ignore_eos``)."""
    input_tokens: int | None = Field(default=None, ge=0)
    """Prompt length known to the caller; used only when the server does not report it."""


def endpoint_url(base_url: str, api: ApiKind) -> str:
    """Join a base URL and the API path; a base URL that already ends in ``/v1`` is accepted."""
    base = base_url.rstrip("/")
    path = _PATHS[api]
    if path.startswith("/v1/") and base.endswith("/v1"):
        base = base[: -len("/v1")]
    return base + path


def build_body(
    api: ApiKind,
    *,
    model: str,
    prompt: str | list[int],
    max_tokens: int,
    ignore_eos: bool = True,
    temperature: float = 0.0,
    extra_body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of one streaming request; ``extra_body`` keys are added last and win."""
    body: dict[str, Any]
    if api in ("completions", "chat"):
        if api == "chat" and not isinstance(prompt, str):
            raise UserError(
                "the chat API takes text prompts, got prompt token ids; "
                "use --api completions or llamacpp for token-id prompts"
            )
        body = {"model": model}
        if api == "chat":
            body["messages"] = [{"role": "user", "content": prompt}]
        else:
            body["prompt"] = prompt
        body |= {
            "max_tokens": max_tokens,
            "temperature": temperature,
            "ignore_eos": ignore_eos,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    elif api == "llamacpp":
        body = {
            "prompt": prompt,
            "n_predict": max_tokens,
            "temperature": temperature,
            "ignore_eos": ignore_eos,
            "cache_prompt": False,
            "return_tokens": True,
            "stream": True,
        }
        if model:
            body["model"] = model
    elif api == "sglang":
        # SGLang GenerateReqInput: text or input_ids, sampling_params, stream
        # (sgl-project/sglang python/sglang/srt/managers/io_struct.py)
        body = {
            "input_ids" if isinstance(prompt, list) else "text": prompt,
            "sampling_params": {
                "max_new_tokens": max_tokens,
                "temperature": temperature,
                "ignore_eos": ignore_eos,
            },
            "stream": True,
        }
    else:
        raise UserError(f"unknown API kind {api!r}; use one of {', '.join(API_KINDS)}")
    if extra_body:
        body.update(extra_body)
    return body
