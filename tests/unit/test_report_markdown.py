"""report.md: the table at the targets, narrative and caveats, escaped, PNGs linked."""

from __future__ import annotations

import pytest

from specscope.report.acceptance import acceptance_by_depth
from specscope.report.markdown import md, render_markdown
from specscope.report.models import PairFiles
from specscope.report.sample import sample_pair, sample_points


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("a|b", r"a\|b"),
        ("*bold* _it_", r"\*bold\* \_it\_"),
        ("$0.137", r"\$0.137"),
        ("[link](x)", r"\[link\](x)"),
        ("# heading", r"\# heading"),
        ("R&D", "R&amp;D"),
    ],
)
def test_md_escapes_data(text: str, expected: str) -> None:
    assert md(text) == expected


def _files(page: str = "index.html", prefix: str = "") -> PairFiles:
    return PairFiles(
        page=page,
        hero_png=f"{prefix}hero.png",
        acceptance_png=f"{prefix}acceptance.png",
        headline="h",
    )


def test_single_pair_markdown_has_table_narrative_and_images() -> None:
    pair = sample_pair(sample_points(model="<script>alert(1)</script>"))
    acc = acceptance_by_depth(pair.spec_points)
    text = render_markdown([pair], [_files()], [acc])
    assert "<script>" not in text
    assert text.startswith("# &lt;script&gt;alert(1)&lt;/script&gt; on h100 fp8, 1k/1k: MTP (vllm)")
    assert "![Throughput against interactivity](hero.png)" in text
    assert "![Acceptance by draft depth](acceptance.png)" in text
    lines = text.splitlines()
    # Default targets: 25/50/75 % of the 50–120 band → 67.5, 85, 102.5, rounded → 68, 85, 103.
    assert "| Target (tok/s/user) | 68 | 85 | 103 |" in lines
    spec_row = next(line for line in lines if line.startswith("| Throughput (tok/s/GPU), MTP"))
    # Spec at 85 tok/s/user = 3810.75 tok/s/GPU (Steffen, worked in test_report_browser).
    assert "**3,810.8** ✓" in spec_row
    off_cost = next(line for line in lines if line.startswith(r"| Cost (\$/M tokens), Off"))
    # Off at 85: 1318.125 tok/s/GPU → 1.30 / (1318.125 × 3600) × 1e6 = $0.274/M.
    assert r"\$0.274" in off_cost
    assert "| Concurrency, Off (vllm) | ~18 | ~8.2 | ~3.3 |" in lines
    assert "| vllm | 3 | 4 | 3.00 | 0.667 | 0.800 | 0.650 | 0.550 |" in lines
    assert "Caveats:" in text


def test_many_pairs_get_a_list_and_a_section_each() -> None:
    a = sample_pair(sample_points(model="model-a"))
    b = sample_pair(sample_points(model="model-b", isl=8192))
    files = [_files("a.html", "a-"), _files("b.html", "b-")]
    text = render_markdown([a, b], files, [[], []])
    assert text.startswith("# specscope comparisons")
    assert "- [model-a · h100 fp8 · 1k/1k · MTP (vllm)](a.html): h" in text
    assert "## model-b on h100 fp8, 8k/1k: MTP (vllm) vs Off (vllm)" in text
    assert "![Throughput against interactivity](b-hero.png)" in text
    assert "Acceptance by draft depth" not in text
