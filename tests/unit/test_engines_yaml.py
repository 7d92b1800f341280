"""The tiny YAML writer used for TensorRT-LLM option files."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from specscope.engines import yaml_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (3, "3"),
        (0.85, "0.85"),
        (1e16, "1.0e+16"),
        (2.5e-07, "2.5e-07"),
        (float("inf"), ".inf"),
        ("MTP", "MTP"),
        ("/models/eagle-3.1", "/models/eagle-3.1"),
        ("true", '"true"'),
        ("off", '"off"'),
        ("123", '"123"'),
        ("1e5", '"1e5"'),
        ("a: b", '"a: b"'),
        ("#x", '"#x"'),
        ("", '""'),
        ("line\nbreak", '"line\\nbreak"'),
        ("ünïcode", '"ünïcode"'),
    ],
)
def test_scalars(value: Any, text: str) -> None:
    assert yaml_text.scalar(value) == text


def test_nested_document() -> None:
    data = {
        "enable_iter_perf_stats": True,
        "speculative_config": {"decoding_type": "Eagle3", "eagle3_layers_to_capture": [23, 29, 35]},
        "cuda_graph_config": {},
        "moe": [{"backend": "TRTLLM", "slots": 2}],
    }
    assert yaml_text.dump(data) == (
        "enable_iter_perf_stats: true\n"
        "speculative_config:\n"
        "  decoding_type: Eagle3\n"
        "  eagle3_layers_to_capture: [23, 29, 35]\n"
        "cuda_graph_config: {}\n"
        "moe:\n"
        "  - backend: TRTLLM\n"
        "    slots: 2\n"
    )
    assert yaml_text.dump({}) == "{}\n"


def test_block_lists_hold_only_mappings() -> None:
    with pytest.raises(TypeError, match="block lists"):
        yaml_text.dump({"x": [{"a": 1}, 2]})


yaml = pytest.importorskip("yaml")

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**9), 10**9)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
)
_keys = st.text(
    st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="_"),
    min_size=1,
    max_size=8,
)
_docs = st.recursive(
    st.dictionaries(_keys, _scalars | st.lists(_scalars, max_size=4), max_size=4),
    lambda children: st.dictionaries(_keys, children, max_size=3),
    max_leaves=12,
)


def test_pyyaml_reads_floats_with_exponents() -> None:
    assert yaml.safe_load(yaml_text.dump({"x": 1e16, "y": 2.5e-07})) == {"x": 1e16, "y": 2.5e-07}


@given(_docs)
def test_pyyaml_reads_back_what_we_write(doc: dict[str, Any]) -> None:
    assert yaml.safe_load(yaml_text.dump(doc)) == (doc or {})
