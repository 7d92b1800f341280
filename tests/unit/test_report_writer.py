"""write_report and the HTML it writes: files, embedded data, escaping, CSP, families, budget."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from specscope.analysis.economics import list_presets
from specscope.errors import UserError
from specscope.report import html as html_module
from specscope.report import writer as writer_module
from specscope.report.html import render_index
from specscope.report.models import ReportPair
from specscope.report.png import png_size
from specscope.report.sample import sample_pair, sample_points
from specscope.report.writer import write_report

XSS = "<script>alert(1)</script>"
SCRIPT = re.compile(r"<script( [^>]*)?>(.*?)</script>", re.DOTALL)


def _data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="data">(.*?)</script>', html, re.DOTALL)
    assert match is not None
    parsed: dict[str, Any] = json.loads(match.group(1))
    return parsed


@pytest.fixture(scope="module")
def xss_pair() -> ReportPair:
    return sample_pair(sample_points(model=XSS, engine="vllm"))


def test_one_pair_writes_index_pngs_and_markdown(tmp_path: Path, xss_pair: ReportPair) -> None:
    out = write_report([xss_pair], tmp_path, list_presets())
    assert out.index == tmp_path / "index.html"
    assert out.pages == [tmp_path / "index.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "acceptance.png",
        "hero.png",
        "index.html",
        "report.md",
    ]
    for png in out.pngs:
        assert png_size(png) == (1600, 1000)
    assert out.page_bytes["index.html"] == (tmp_path / "index.html").stat().st_size
    assert out.page_bytes["index.html"] < 6_000_000


def test_page_escapes_data_and_pins_its_scripts(tmp_path: Path, xss_pair: ReportPair) -> None:
    html = write_report([xss_pair], tmp_path, list_presets()).index.read_text()
    scripts = SCRIPT.findall(html)
    # Exactly three script elements: the JSON data, plotly.js and the page script.
    assert [attrs for attrs, _ in scripts] == [' type="application/json" id="data"', "", ""]
    assert html.count("<script") == 3
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; on h100 fp8" in html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
    assert csp is not None
    assert "connect-src 'none'" in csp.group(1)
    assert "default-src 'none'" in csp.group(1)
    for _, body in scripts[1:]:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp.group(1)
    markup = SCRIPT.sub("", html)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup, re.IGNORECASE)
    assert "<link" not in markup and "<img" not in markup
    data = _data(html)
    views = data["views"]
    assert isinstance(views, list)
    assert views[0]["model"] == XSS
    assert views[0]["cmp"] == json.loads(xss_pair.comparison.model_dump_json())


def test_many_pairs_write_one_page_each_and_an_index(tmp_path: Path) -> None:
    short = sample_pair(sample_points(model=XSS))
    long = sample_pair(sample_points(model=XSS, isl=8192))
    other = sample_pair(sample_points(model="qwen3.5", hardware="b300", precision="fp4"))
    out = write_report([short, long, other], tmp_path, list_presets())
    names = sorted(p.name for p in out.pages)
    assert names == [
        "qwen3.5-b300-fp4-1k-1k-mtp-vllm.html",
        "script-alert-1-script-h100-fp8-1k-1k-mtp-vllm.html",
        "script-alert-1-script-h100-fp8-8k-1k-mtp-vllm.html",
    ]
    assert (tmp_path / "qwen3.5-b300-fp4-1k-1k-mtp-vllm-hero.png").exists()
    index = (tmp_path / "index.html").read_text()
    assert "<script" not in index
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    assert index.count('<a href="') == 3
    assert 'href="qwen3.5-b300-fp4-1k-1k-mtp-vllm.html"' in index
    # The two sequences of one model × hardware share a page family; qwen's page holds itself.
    short_page = _data((tmp_path / names[1]).read_text())
    assert [v["sequence"] for v in short_page["views"]] == ["1k/1k", "8k/1k"]
    assert short_page["default_view"] == 0
    long_page = _data((tmp_path / names[2]).read_text())
    assert long_page["default_view"] == 1
    assert [v["file"] for v in long_page["views"]] == [names[1], names[2]]
    qwen = _data((tmp_path / names[0]).read_text())
    assert len(qwen["views"]) == 1
    assert len(qwen["pages"]) == 3
    assert qwen["presets"][0]["name"].startswith("semianalysis")
    assert all(set(p["hw"]) == {"b300"} for p in qwen["presets"])
    md = (tmp_path / "report.md").read_text()
    assert md.count("\n## ") == 3


def test_context_pairs_are_switchable_but_get_no_page(tmp_path: Path) -> None:
    chosen = sample_pair(sample_points())
    context = sample_pair(sample_points(isl=8192))
    out = write_report([chosen], tmp_path, list_presets(), context=[context])
    data = _data(out.index.read_text())
    assert [v["file"] for v in data["views"]] == ["index.html", None]
    assert len(out.pages) == 1


def test_a_family_over_budget_narrows_to_the_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = sample_pair(sample_points(model="m"))
    b = sample_pair(sample_points(model="m", precision="bf16"))
    size = len(html_module.plotly_js().encode()) + writer_module._PAGE_OVERHEAD_BYTES
    # Room for one view's data (about 10 kB) but not for two.
    monkeypatch.setattr(writer_module, "PAGE_BUDGET_BYTES", size + 14_000)
    out = write_report([a, b], tmp_path, list_presets())
    for page in out.pages:
        assert len(_data(page.read_text())["views"]) == 1


def test_nothing_to_report_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no comparable pair"):
        write_report([], tmp_path, list_presets())


def test_render_index_escapes_every_field() -> None:
    row = {
        "model": XSS,
        "hardware": "h100",
        "precision": "fp8",
        "sequence": "1k/1k",
        "method": "mtp",
        "engine": "<b>vllm</b>",
        "headline": "mtp & co",
        "file": 'a".html',
    }
    html = render_index([row])
    assert "<script>alert" not in html and "<b>vllm" not in html
    assert "&lt;b&gt;vllm&lt;/b&gt;" in html
    assert "mtp &amp; co" in html
    assert 'href="a&quot;.html"' in html
    assert "1 comparison:" in html
