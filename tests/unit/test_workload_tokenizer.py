"""HTTP tokenizers against mocked llama.cpp and vLLM servers (request shapes and replies)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from specscope.engines import server_tokenizer
from specscope.errors import UserError
from specscope.workload import ChatMessage, LlamaCppTokenizer, VllmTokenizer

DATA = Path(__file__).parents[1] / "data" / "metrics"
REAL_TOKENIZE = json.loads((DATA / "llamacpp_tokenize.json").read_text())


def _transport(routes: dict[str, Any], seen: list[tuple[str, Any]]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.url.path, body))
        reply = routes.get(request.url.path)
        if reply is None:
            return httpx.Response(404, text="not found")
        return httpx.Response(200, json=reply(body) if callable(reply) else reply)

    return httpx.MockTransport(handler)


def test_llamacpp_tokenize_uses_content_and_add_special() -> None:
    # Recorded from llama-server b11434 with Gemma 3 270M: BOS (id 2) only with add_special.
    def tokenize(body: dict[str, Any]) -> dict[str, Any]:
        key = "response_add_special" if body.get("add_special") else "response"
        return dict(REAL_TOKENIZE[key])

    seen: list[tuple[str, Any]] = []
    tok = LlamaCppTokenizer("http://x", transport=_transport({"/tokenize": tokenize}, seen))
    text = REAL_TOKENIZE["request"]["content"]
    assert len(tok.tokenize(text, add_special=False)) == 9
    assert tok.tokenize(text, add_special=True)[0] == 2
    assert seen[0] == ("/tokenize", {"content": text, "add_special": False})


def test_llamacpp_count_chat_renders_then_tokenizes_with_specials() -> None:
    seen: list[tuple[str, Any]] = []
    routes = {
        "/apply-template": {"prompt": "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"},
        "/tokenize": {"tokens": [2, 5, 6, 7, 8, 9, 10]},
        "/detokenize": {"content": "Hi"},
    }
    tok = LlamaCppTokenizer("http://x/", transport=_transport(routes, seen))
    assert tok.count_chat([ChatMessage(role="user", content="Hi")]) == 7
    assert seen[0] == ("/apply-template", {"messages": [{"role": "user", "content": "Hi"}]})
    assert seen[1][1]["add_special"] is True and seen[1][1]["parse_special"] is True
    assert tok.detokenize([5]) == "Hi"


def test_vllm_tokenizer_asks_the_model_name_once() -> None:
    seen: list[tuple[str, Any]] = []
    routes = {
        "/v1/models": {"data": [{"id": "org/model"}]},
        "/tokenize": lambda body: {"tokens": list(range(3 if "prompt" in body else 11))},
        "/detokenize": {"prompt": "abc"},
    }
    tok = VllmTokenizer("http://x", transport=_transport(routes, seen))
    assert tok.tokenize("abc", add_special=True) == [0, 1, 2]
    assert tok.count_chat([ChatMessage(role="user", content="abc")]) == 11
    assert tok.detokenize([1]) == "abc"
    paths = [p for p, _ in seen]
    assert paths == ["/v1/models", "/tokenize", "/tokenize", "/detokenize"]
    assert seen[1][1] == {"model": "org/model", "prompt": "abc", "add_special_tokens": True}
    assert seen[2][1]["add_generation_prompt"] is True


def test_http_errors_are_user_errors() -> None:
    tok = LlamaCppTokenizer("http://x", transport=_transport({}, []))
    with pytest.raises(UserError, match="POST http://x/tokenize returned HTTP 404"):
        tok.tokenize("a", add_special=False)


def test_server_tokenizer_by_engine() -> None:
    assert isinstance(server_tokenizer("llamacpp", "http://x"), LlamaCppTokenizer)
    assert isinstance(server_tokenizer("vllm", "http://x", "m"), VllmTokenizer)
    with pytest.raises(UserError, match=r"sglang.*exposes no tokenizer endpoint"):
        server_tokenizer("sglang", "http://x")
