"""Prompt sources: synthetic prompts at exact token lengths, JSONL prompt files, built-in sets."""

from specscope.workload.build import Workload, build
from specscope.workload.builtin import list_categories, load_builtin
from specscope.workload.files import load_prompt_file
from specscope.workload.prompt import ChatMessage, Prompt
from specscope.workload.tokenizer import (
    LlamaCppTokenizer,
    LocalTokenizer,
    Tokenizer,
    VllmTokenizer,
    server_tokenizer,
)

__all__ = [
    "ChatMessage",
    "LlamaCppTokenizer",
    "LocalTokenizer",
    "Prompt",
    "Tokenizer",
    "VllmTokenizer",
    "Workload",
    "build",
    "list_categories",
    "load_builtin",
    "load_prompt_file",
    "server_tokenizer",
]
