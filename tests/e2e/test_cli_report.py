"""``specscope report`` end to end: a real store, a real process, the files it writes.

Checks the folder as a user would find it: which pages exist, that PNGs are PNGs, that no page
pulls anything from the network (no http(s) script, stylesheet or image reference), and that
``report.md`` holds the numbers ``specscope compare --json`` gives for the same selection. What
the page does in a browser is covered by ``test_report_browser.py``.
"""

from __future__ import annotations

import json
import re
import struct
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from tests.support.cli import ok_json, specscope
from typer.testing import CliRunner

from specscope.cli import app

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "data" / "inferencex"
EXAMPLE = ROOT / "src" / "specscope" / "data" / "examples" / "inferencex-example.json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The bundled example: 3 hardware/precision/engine slices × 2 sequences, MTP and Off in each.
EXAMPLE_PAIRS = [
    ("b300", "fp4", "1k/1k", "sglang"),
    ("b300", "fp4", "8k/1k", "sglang"),
    ("h200", "fp8", "1k/1k", "sglang"),
    ("h200", "fp8", "8k/1k", "sglang"),
    ("mi355x", "bf16", "1k/1k", "atom"),
    ("mi355x", "bf16", "8k/1k", "atom"),
]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("report")


@pytest.fixture(scope="module")
def fixture_db(work: Path) -> Path:
    db = work / "fixtures.duckdb"
    done = specscope("import", "inferencex", FIXTURES, "--db", db, cwd=work)
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture(scope="module")
def example_db(work: Path) -> Path:
    db = work / "example.duckdb"
    done = specscope("import", "inferencex", EXAMPLE, "--db", db, cwd=work)
    assert done.returncode == 0, done.stderr
    return db


class _References(HTMLParser):
    """Every URL-valued attribute of every tag (script bodies are data, not tags)."""

    URL_ATTRIBUTES = frozenset({"src", "href", "data", "action", "poster", "srcset", "formaction"})

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.titles: list[str] = []
        self._in_title = False
        self.csp: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name in self.URL_ATTRIBUTES and value:
                self.refs.append((tag, name, value))
        if tag == "meta" and (values.get("http-equiv") or "").lower() == (
            "content-security-policy"
        ):
            self.csp.append(values.get("content") or "")
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.titles.append(data)


def _parse(page: Path) -> _References:
    parser = _References()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


def assert_offline(page: Path) -> _References:
    """No script, stylesheet, image or other reference leaves the folder."""
    parsed = _parse(page)
    remote = [r for r in parsed.refs if re.match(r"\s*(https?:)?//", r[2], re.IGNORECASE)]
    assert remote == [], f"{page.name} references the network: {remote}"
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", text, re.IGNORECASE)
    assert not re.search(r"@import\s", text)
    # and the page forbids the browser to fetch anything it did not embed
    assert parsed.csp and all("default-src 'none'" in csp for csp in parsed.csp)
    return parsed


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    width, height = struct.unpack(">II", data[16:24])  # IHDR follows the signature
    assert data[12:16] == b"IHDR"
    assert width >= 300 and height >= 200, (path, width, height)


def table_strings(comparison: dict[str, Any]) -> list[str]:
    """The table cells report.md must show, formatted from ``compare --json``'s numbers."""
    cells = []
    for t in comparison["targets"]:
        for side in (t["spec"], t["off"]):
            cells.append(f"{side['throughput_per_gpu']:,.1f}")
            cells.append(f"\\${side['usd_per_mtok']:.3f}")
            cells.append(f"{side['tok_s_per_mw']:,.0f}")
        cells.append(t["cost"]["wording"])
    return cells


def section(markdown: str, title: str) -> str:
    """The ``## title`` section of a multi-pair report.md."""
    head = f"## {title}\n"
    assert head in markdown, title
    return markdown.split(head, 1)[1].split("\n## ", 1)[0]


def test_one_pair_report_is_the_pair_page_with_pngs_and_markdown(
    fixture_db: Path, work: Path
) -> None:
    out = work / "one"
    filters = ["--model", "qwen3.5", "--hardware", "b300", "--precision", "fp4"]
    filters += ["--sequence", "1k/1k", "--spec", "mtp"]
    written = ok_json(
        specscope("report", "--db", fixture_db, "--out", out, *filters, "--json", cwd=work)
    )
    index = out / "index.html"
    assert Path(written["index"]) == index
    assert [Path(p) for p in written["pages"]] == [index]
    assert [Path(p) for p in written["pngs"]] == [out / "hero.png"]  # no acceptance counters
    assert Path(written["markdown"]) == out / "report.md"
    assert sorted(p.name for p in out.iterdir()) == ["hero.png", "index.html", "report.md"]

    parsed = assert_offline(index)
    assert parsed.titles[0] == "qwen3.5 on b300 fp4, 1k/1k: MTP (sglang) vs Off (sglang)"
    assert 'id="data"' in index.read_text(encoding="utf-8")  # the pair's page, not a list
    assert_png(out / "hero.png")

    comparison = ok_json(specscope("compare", "--db", fixture_db, *filters, "--json", cwd=work))
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "| Target (tok/s/user) | 75 | 90 | 105 |" in markdown
    # From the fixtures' README: 4625/1700 at 75, 4250/1400 at 90, 3875/1100 at 105 tok/s/GPU.
    for cell in ["4,625.0", "1,700.0", "4,250.0", "1,400.0", "3,875.0", "1,100.0"]:
        assert cell in markdown
    for cell in table_strings(comparison):
        assert cell in markdown, cell
    assert "![Throughput against interactivity](hero.png)" in markdown


def test_filters_selecting_one_pair_of_many_write_its_page_as_the_index(
    example_db: Path, work: Path
) -> None:
    out = work / "b300"
    filters = ["--hardware", "b300", "--precision", "fp4", "--sequence", "8k/1k"]
    done = specscope("report", "--db", example_db, "--out", out, *filters, cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out / 'index.html'} (1 page(s), 1 PNG(s)")
    assert sorted(p.name for p in out.iterdir()) == ["hero.png", "index.html", "report.md"]
    parsed = assert_offline(out / "index.html")
    assert parsed.titles[0] == "qwen3.5 on b300 fp4, 8k/1k: MTP (sglang) vs Off (sglang)"
    assert_png(out / "hero.png")
    comparison = ok_json(specscope("compare", "--db", example_db, *filters, "--json", cwd=work))
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert markdown.startswith("# qwen3.5 on b300 fp4, 8k/1k: MTP (sglang) vs Off (sglang)\n")
    for cell in table_strings(comparison):
        assert cell in markdown, cell


def test_no_filters_write_a_page_per_pair_and_an_index_listing_them(
    example_db: Path, work: Path
) -> None:
    out = work / "all"
    written = ok_json(specscope("report", "--db", example_db, "--out", out, "--json", cwd=work))
    slugs = [
        f"qwen3.5-{hw}-{prec}-{seq.replace('/', '-')}-mtp-{eng}"
        for hw, prec, seq, eng in EXAMPLE_PAIRS
    ]
    assert [Path(p).name for p in written["pages"]] == [f"{s}.html" for s in slugs]
    assert [Path(p).name for p in written["pngs"]] == [f"{s}-hero.png" for s in slugs]
    expected = {
        "index.html",
        "report.md",
        *(f"{s}.html" for s in slugs),
        *(f"{s}-hero.png" for s in slugs),
    }
    assert {p.name for p in out.iterdir()} == expected

    index = assert_offline(out / "index.html")
    assert index.titles[0] == "specscope comparisons"
    links = [value for tag, name, value in index.refs if tag == "a" and name == "href"]
    assert sorted(links) == sorted(f"{s}.html" for s in slugs)
    index_text = (out / "index.html").read_text(encoding="utf-8")
    assert 'id="data"' not in index_text  # a list of pages, not a comparison page
    for pair in written["pairs"]:
        assert pair["headline"] in index_text

    markdown = (out / "report.md").read_text(encoding="utf-8")
    runner = CliRunner()
    for slug, (hw, prec, seq, engine) in zip(slugs, EXAMPLE_PAIRS, strict=True):
        page = out / f"{slug}.html"
        parsed = assert_offline(page)
        title = f"qwen3.5 on {hw} {prec}, {seq}: MTP ({engine}) vs Off ({engine})"
        assert parsed.titles[0] == title
        assert_png(out / f"{slug}-hero.png")
        # the same numbers as `specscope compare --json` for this pair (in-process runner)
        args = ["compare", "--db", str(example_db), "--hardware", hw, "--precision", prec]
        result = runner.invoke(app, [*args, "--sequence", seq, "--json"])
        assert result.exit_code == 0, result.stderr
        part = section(markdown, title)
        for cell in table_strings(json.loads(result.stdout)):
            assert cell in part, (title, cell)


def test_report_on_a_store_without_a_matching_pair_is_one_line(
    fixture_db: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app,
        ["report", "--db", str(fixture_db), "--out", str(tmp_path / "r"), "--spec", "eagle3"],
    )
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: nothing to compare")
    assert not (tmp_path / "r").exists()
