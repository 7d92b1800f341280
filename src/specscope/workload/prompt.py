"""The prompt record every workload source produces and the client sends."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ChatMessage(BaseModel):
    """One chat turn, as OpenAI-compatible chat endpoints take it."""

    model_config = ConfigDict(frozen=True)

    role: str = Field(min_length=1)
    content: str


class Prompt(BaseModel):
    """One request's input: plain text, exact token ids, or chat messages.

    ``input_tokens`` is the prompt length as the server counts it (BOS and chat-template tokens
    included), or None when no tokenizer was available to count it. ``token_ids`` (synthetic
    prompts only) are exactly the ids the server processes for ``text``, special tokens
    included, so sending either gives the same ``input_tokens``.
    """

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    text: str | None = None
    token_ids: list[int] | None = None
    messages: list[ChatMessage] | None = None
    input_tokens: int | None = Field(default=None, ge=0)
    output_tokens: int | None = Field(default=None, ge=1)
    """Requested output tokens; None means "the workload's default"."""
    category: str = ""

    @model_validator(mode="after")
    def _has_input(self) -> Prompt:
        if self.text is None and self.token_ids is None and self.messages is None:
            raise ValueError("a prompt needs text, token_ids or messages")
        if self.messages is not None and not self.messages:
            raise ValueError("messages must not be empty")
        return self

    @property
    def kind(self) -> Literal["messages", "text", "tokens"]:
        """Which input to send: chat ``messages`` win, then ``text``, then ``token_ids``."""
        if self.messages is not None:
            return "messages"
        if self.text is not None:
            return "text"
        return "tokens"
