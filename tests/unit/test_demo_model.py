"""Demo models: chunk packages joined in part order into the cache, size and sha256 checked."""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path

import pytest

from specscope.demo_model import (
    GEMMA_270M,
    MODELS,
    QWEN_CODER_0_5B,
    QWEN_CODER_1_5B,
    ChunkedGguf,
    lookup,
    model_path,
    resolve_model_path,
)
from specscope.errors import UserError

PARTS = [b"GGUF-head-", b"middle-", b"tail"]


def _fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sha256: str) -> ChunkedGguf:
    """A three-part model whose chunk packages are modules made here."""
    monkeypatch.setenv("SPECSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    names = []
    for i, data in enumerate(PARTS, start=1):
        part = tmp_path / f"part{i:02d}.bin"
        part.write_bytes(data)
        module = types.ModuleType(f"fake_chunk_part{i}")
        module.get_part_path = lambda part=part: str(part)  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, module.__name__, module)
        names.append(module.__name__)
    return ChunkedGguf(
        name="fake",
        key="fake-model",
        title="Fake 1B",
        file_name="fake.gguf",
        precision="q4_k_m",
        packages=tuple(names),
        pip_spec="fake-chunk-part1..3==1.0",
        size_bytes=sum(len(p) for p in PARTS),
        sha256=sha256,
        licence="MIT",
    )


def test_parts_are_joined_in_order_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = b"".join(PARTS)
    model = _fake_model(tmp_path, monkeypatch, hashlib.sha256(whole).hexdigest())
    path = model_path(model)
    assert path == tmp_path / "cache" / "fake.gguf"
    assert path.read_bytes() == b"GGUF-head-middle-tail"
    # the second call finds the file (21 bytes, as declared) and joins nothing
    for name in model.packages:
        monkeypatch.delitem(sys.modules, name)
    assert model_path(model) == path


def test_a_checksum_mismatch_is_one_line_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _fake_model(tmp_path, monkeypatch, "0" * 64)
    with pytest.raises(UserError) as info:
        model_path(model)
    message = str(info.value)
    assert "\n" not in message
    assert "corrupt (21 bytes" in message and "reinstall fake-chunk-part1..3==1.0" in message
    assert list((tmp_path / "cache").iterdir()) == []  # neither the file nor a partial one


def test_a_missing_chunk_package_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _fake_model(tmp_path, monkeypatch, "0" * 64)
    monkeypatch.setitem(sys.modules, model.packages[1], None)  # import raises ImportError
    with pytest.raises(UserError, match=r"pip install fake-chunk-part1\.\.3==1\.0"):
        model_path(model)


def test_recipe_names() -> None:
    assert lookup("demo") is GEMMA_270M
    assert lookup("demo:qwen2.5-coder-1.5b") is QWEN_CODER_1_5B
    assert lookup("demo:qwen2.5-coder-0.5b") is QWEN_CODER_0_5B
    assert lookup("/models/my.gguf") is None
    assert lookup("Qwen/Qwen2.5-Coder-1.5B-Instruct") is None  # an engine's hub id passes through
    assert resolve_model_path("/models/my.gguf") == "/models/my.gguf"
    with pytest.raises(UserError, match="unknown demo model 'demo:nope'; choose one of"):
        lookup("demo:nope")


def test_the_published_sizes_and_part_counts() -> None:
    assert set(MODELS) == {"gemma-3-270m", "qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"}
    assert QWEN_CODER_1_5B.size_bytes == 1_117_320_768
    assert QWEN_CODER_0_5B.size_bytes == 491_400_064
    assert len(QWEN_CODER_1_5B.packages) == 22
    assert len(QWEN_CODER_0_5B.packages) == 6
