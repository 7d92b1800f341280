"""Workloads in compare and the report: never pooled into one curve, picked with a note, and the
spec method's acceptance on every workload set side by side.

The data is ``report.sample.workload_points()``: draft model (g = 2) and Off on ``code`` and
``chat`` at the same sequence 200/64, in a real DuckDB store. Worked acceptance (counters summed
over the points, never a mean of per-point ratios):

- code: steps 10 + 10 + 10 = 30, drafted 60, accepted 19 + 18 + 19 = 56 → AL = 1 + 56/30 =
  2.8667, r = 56/60 = 0.9333;
- chat: steps 15 + 25 = 40, drafted 80, accepted 20 + 35 = 55 → AL = 1 + 55/40 = 2.375,
  r = 55/80 = 0.6875.

Code has three concurrencies on both sides and chat two, so compare without --workload picks
code (3 shared variants, 6 in total).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from tests.support.points import with_config
from typer.testing import CliRunner

from specscope.analysis.economics import list_presets
from specscope.analysis.results import Comparison
from specscope.analysis.series import select_pair
from specscope.app.compare import compare_store
from specscope.app.options import Selection
from specscope.app.report import comparable_pairs, write_store_report
from specscope.cli import app
from specscope.console import print_comparison
from specscope.errors import UserError
from specscope.report.acceptance import acceptance_by_workload, workloads_side_by_side
from specscope.report.payload import PayloadCache, build_payload
from specscope.report.png import png_size
from specscope.report.sample import sample_pair, sample_points, workload_points
from specscope.report.writer import write_report
from specscope.store.db import Store

CODE_AL = 1 + 56 / 30
CODE_R = 56 / 60
CHAT_AL = 1 + 55 / 40
CHAT_R = 55 / 80
NOTE = (
    "points cover workloads chat, code; compared code, which has the most engine×concurrency "
    "variants measured on both draft and off (3; 6 in total); choose another with --workload"
)
TITLE = "qwen2.5-coder-1.5b on cpu q4_k_m, 200/64, workload {}: draft (llamacpp) vs Off (llamacpp)"
MD_TITLE = TITLE.replace("_", "\\_")
"""The title as report.md writes it (Markdown's ``_`` escaped)."""


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("workloads") / "store.duckdb"
    with Store.open(path) as store:
        store.add_points(workload_points())
    return path


def _rows(comparison: Comparison) -> list[tuple[str, int | None, int, int | None, int | None]]:
    return [
        (r.workload, r.draft_depth, r.n_points, r.draft_tokens, r.accepted_tokens)
        for r in comparison.acceptance_by_workload
    ]


def _assert_worked(rows: list[dict[str, Any]]) -> None:
    """The two rows of ``acceptance_by_workload`` as ``compare --json`` writes them."""
    assert [(r["workload"], r["draft_depth"], r["spec_method"]) for r in rows] == [
        ("chat", 2, "draft"),
        ("code", 2, "draft"),
    ]
    chat, code = rows
    assert (chat["drafts"], chat["draft_tokens"], chat["accepted_tokens"]) == (40, 80, 55)
    assert (code["drafts"], code["draft_tokens"], code["accepted_tokens"]) == (30, 60, 56)
    assert (chat["n_points"], code["n_points"]) == (2, 3)
    assert chat["acceptance_length"] == pytest.approx(CHAT_AL, abs=1e-12)
    assert chat["draft_acceptance_rate"] == pytest.approx(CHAT_R, abs=1e-12)
    assert code["acceptance_length"] == pytest.approx(CODE_AL, abs=1e-12)
    assert code["draft_acceptance_rate"] == pytest.approx(CODE_R, abs=1e-12)
    assert round(code["acceptance_length"], 4) == 2.8667
    assert round(code["draft_acceptance_rate"], 4) == 0.9333


# --- select_pair ----------------------------------------------------------------------------


def test_select_pair_never_pools_workloads_and_names_the_one_it_picked() -> None:
    ((spec, off),) = select_pair(workload_points(), spec_method="draft")
    assert {p.config.workload for p in (*spec.points, *off.points)} == {"code"}
    assert (len(spec.points), len(off.points)) == (3, 3)
    assert spec.workload == off.workload == "code"
    assert spec.notes == off.notes == (NOTE,)


def test_one_workload_needs_no_note() -> None:
    chat = [p for p in workload_points() if p.config.workload == "chat"]
    ((spec, _),) = select_pair(chat, spec_method="draft")
    assert spec.workload == "chat" and spec.notes == ()


def test_sides_on_different_workloads_are_refused() -> None:
    points = [
        p
        for p in workload_points()
        if (p.config.workload == "code") == (p.config.spec_method == "draft")
    ]
    with pytest.raises(UserError) as caught:
        select_pair(points, spec_method="draft")
    message = str(caught.value)
    assert "draft and off points share no workload (draft: code; off: chat)" in message
    assert "measure both sides on one workload" in message


def test_points_without_a_workload_pick_sequences_as_before() -> None:
    points = sample_points() + sample_points(isl=8192)
    ((spec, _),) = select_pair(points)
    assert spec.workload == ""
    assert len(spec.notes) == 1 and "choose another with --sequence" in spec.notes[0]
    assert "workload" not in spec.notes[0]


# --- acceptance rows ------------------------------------------------------------------------


def test_side_by_side_rows_belong_to_the_series_and_need_two_workloads() -> None:
    rows = acceptance_by_workload(workload_points())
    assert [(r.workload, r.n_points) for r in rows] == [("chat", 2), ("code", 3)]
    assert workloads_side_by_side(rows, "draft", ["llamacpp"]) == rows
    assert workloads_side_by_side(rows, "draft", ["vllm"]) == []
    assert workloads_side_by_side(rows, "mtp", ["llamacpp"]) == []
    assert workloads_side_by_side(rows[:1], "draft", ["llamacpp"]) == []


# --- compare --------------------------------------------------------------------------------


def test_compare_store_picks_code_with_a_note_and_lists_both_workloads(db: Path) -> None:
    (comparison,) = compare_store(db, Selection(spec_method="draft"))
    assert comparison.workload == "code"
    assert comparison.slice_label == "200/64, workload code"
    assert NOTE[:1].upper() + NOTE[1:] in comparison.caveats
    assert comparison.spec.n_points == comparison.off.n_points == 3
    assert _rows(comparison) == [("chat", 2, 2, 80, 55), ("code", 2, 3, 60, 56)]


def test_compare_store_on_one_workload_still_sets_the_other_beside_it(db: Path) -> None:
    (comparison,) = compare_store(db, Selection(spec_method="draft", workload="chat"))
    assert comparison.workload == "chat"
    assert not any("--workload" in c for c in comparison.caveats)
    assert comparison.spec.n_points == 2
    assert _rows(comparison) == [("chat", 2, 2, 80, 55), ("code", 2, 3, 60, 56)]
    assert compare_store(db, Selection(spec_method="draft", workload="chat"), lean=False) == [
        comparison
    ]


def test_each_engine_gets_its_own_rows(tmp_path: Path) -> None:
    on_vllm = [with_config(p, engine="vllm") for p in workload_points()]
    with Store.open(tmp_path / "two.duckdb") as store:
        store.add_points([*workload_points(), *on_vllm])
    comparisons = compare_store(tmp_path / "two.duckdb", Selection(spec_method="draft"))
    assert [c.spec.engines for c in comparisons] == [["llamacpp"], ["vllm"]]
    for comparison in comparisons:
        assert {r.engine for r in comparison.acceptance_by_workload} == set(comparison.spec.engines)
        assert _rows(comparison) == [("chat", 2, 2, 80, 55), ("code", 2, 3, 60, 56)]


def test_compare_json_carries_the_workload_and_the_worked_acceptance(db: Path) -> None:
    result = CliRunner().invoke(app, ["compare", "--db", str(db), "--spec", "draft", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["workload"] == "code"
    assert data["sequence"] == "200/64"
    assert NOTE[:1].upper() + NOTE[1:] in data["caveats"]
    _assert_worked(data["acceptance_by_workload"])


def test_compare_console_names_the_workload_and_marks_it_within_100_columns(db: Path) -> None:
    (comparison,) = compare_store(db, Selection(spec_method="draft"))
    buffer = io.StringIO()
    print_comparison(Console(file=buffer, width=100, color_system=None), comparison)
    text = buffer.getvalue()
    assert text.startswith(
        "draft (llamacpp) vs off (llamacpp) — qwen2.5-coder-1.5b on cpu q4_k_m, 200/64, "
        "workload code\n"
    )
    table = text[text.index("acceptance of draft per workload") :].splitlines()
    assert all(len(line) <= 100 for line in table)
    cells = [re.split(r"\s*│\s*", line.strip("│ ")) for line in table if "llamacpp" in line]
    assert cells == [
        ["llamacpp", "2", "chat", "2", "40", "80", "55", "0.688", "2.38"],
        ["llamacpp", "2", "code (compared)", "3", "30", "60", "56", "0.933", "2.87"],
    ]


def test_compare_without_workloads_prints_no_acceptance_table() -> None:
    comparison = sample_pair(sample_points()).comparison
    assert comparison.workload == "" and comparison.acceptance_by_workload == []
    buffer = io.StringIO()
    print_comparison(Console(file=buffer, width=100, color_system=None), comparison)
    assert "per workload" not in buffer.getvalue()
    assert buffer.getvalue().splitlines()[0].endswith("on h100 fp8, 1k/1k")


# --- report ---------------------------------------------------------------------------------


def test_comparable_pairs_split_one_sequence_into_a_pair_per_workload() -> None:
    pairs = comparable_pairs(workload_points())
    assert [p.comparison.workload for p in pairs] == ["chat", "code"]
    for pair, n in zip(pairs, (2, 3), strict=True):
        workload = pair.comparison.workload
        assert {p.config.workload for p in (*pair.spec_points, *pair.off_points)} == {workload}
        assert (len(pair.spec_points), len(pair.off_points)) == (n, n)
        assert not any("choose another" in c for c in pair.comparison.caveats)
        assert _rows(pair.comparison) == [("chat", 2, 2, 80, 55), ("code", 2, 3, 60, 56)]


def test_a_page_keeps_each_workloads_off_series_apart() -> None:
    pairs = comparable_pairs(workload_points())
    data = build_payload(
        views=pairs,
        default_view=1,
        presets=list_presets(),
        pages=[],
        view_files=[None, None],
        title="t",
        cache=PayloadCache(),
    )
    assert len(data["series"]) == 4
    assert [v["workload"] for v in data["views"]] == ["chat", "code"]
    assert [data["series"][v["offs"]]["workload"] for v in data["views"]] == ["chat", "code"]
    code_view = data["views"][1]
    assert [r["workload"] for r in code_view["cmp"]["acceptance_by_workload"]] == ["chat", "code"]


def test_store_report_writes_a_page_per_workload_with_acceptance_side_by_side(
    db: Path, tmp_path: Path
) -> None:
    output = write_store_report(db, tmp_path)
    slug = "qwen2.5-coder-1.5b-cpu-q4-k-m-200-64-{}-draft-llamacpp"
    assert [p.name for p in output.pages] == [f"{slug.format(w)}.html" for w in ("chat", "code")]
    assert sorted(p.name for p in output.pngs) == sorted(
        f"{slug.format(w)}-{kind}.png" for w in ("chat", "code") for kind in ("hero", "acceptance")
    )
    for png in output.pngs:
        assert png_size(png) == (1600, 1000)
    index = output.index.read_text(encoding="utf-8")
    assert '<th scope="col">Workload</th>' in index
    assert "<td>200/64</td><td>chat</td><td>draft</td>" in index

    markdown = output.markdown.read_text(encoding="utf-8")
    for workload in ("chat", "code"):
        assert f"## {MD_TITLE.format(workload)}\n" in markdown
        assert f"200/64, workload {workload} · draft (llamacpp)" in markdown  # the list of pairs
    code = markdown.split(f"## {MD_TITLE.format('code')}\n", 1)[1]
    header = "| Engine | g | Workload | Points | Verify steps | Drafted | Accepted | AL | Rate r |"
    assert header in code
    assert "| llamacpp | 2 | chat | 2 | 40 | 80 | 55 | 2.38 | 0.688 |" in code
    assert "| llamacpp | 2 | **code** (this page) | 3 | 30 | 60 | 56 | 2.87 | 0.933 |" in code
    chat = markdown.split(f"## {MD_TITLE.format('chat')}\n", 1)[1].split("\n## ", 1)[0]
    assert "| llamacpp | 2 | **chat** (this page) | 2 | 40 | 80 | 55 | 2.38 | 0.688 |" in chat
    assert "| llamacpp | 2 | code | 3 | 30 | 60 | 56 | 2.87 | 0.933 |" in chat


def test_a_report_filtered_to_one_workload_still_sets_the_others_beside_it(
    db: Path, tmp_path: Path
) -> None:
    output = write_store_report(db, tmp_path, Selection(workload="chat"))
    assert [p.name for p in output.pages] == ["index.html"]
    markdown = output.markdown.read_text(encoding="utf-8")
    assert markdown.startswith(f"# {MD_TITLE.format('chat')}\n")
    assert "| llamacpp | 2 | code | 3 | 30 | 60 | 56 | 2.87 | 0.933 |" in markdown
    page = output.index.read_text(encoding="utf-8")
    assert f"<title>{TITLE.format('chat')}</title>" in page


def test_report_without_workloads_is_unchanged(tmp_path: Path) -> None:
    output = write_report([sample_pair(sample_points())], tmp_path, list_presets())
    markdown = output.markdown.read_text(encoding="utf-8")
    assert markdown.startswith("# llama-3.1-8b on h100 fp8, 1k/1k: MTP (vllm) vs Off (vllm)\n")
    assert "Workload" not in markdown


def test_two_workloads_at_different_sequences_are_two_pairs_too() -> None:
    points = [with_config(p, workload="code") for p in sample_points()]
    points += [with_config(p, workload="chat") for p in sample_points(isl=8192, scale=0.5)]
    pairs = comparable_pairs(points)
    assert [(p.comparison.sequence, p.comparison.workload) for p in pairs] == [
        ("1k/1k", "code"),
        ("8k/1k", "chat"),
    ]
    # A tie (4 shared variants each): the first name wins, and its one sequence needs no note.
    ((spec, _),) = select_pair(points)
    assert {p.config.isl for p in spec.points} == {8192}
    assert spec.notes == (
        "points cover workloads chat, code; compared chat, which has the most "
        "engine×concurrency variants measured on both mtp and off (4; 8 in total); choose "
        "another with --workload",
    )
