"""Workloads on the comparison page, in a real headless Chromium (as ``test_report_browser.py``).

The store is ``report.sample.workload_points()``: draft model (g = 2) and Off on ``code`` and
``chat`` at the same sequence 200/64, so the report writes one page per workload and each page
sets the drafter's acceptance on both side by side. Worked numbers: code 30 verify steps, 60
drafted, 56 accepted → AL 1 + 56/30 = 2.87, r 56/60 = 0.933; chat 40, 80, 55 → AL 2.38 (2.375),
r 0.688 (0.6875).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e import test_report_browser as browser_tests

from specscope.analysis.economics import list_presets
from specscope.app.report import write_store_report
from specscope.report.sample import sample_pair, sample_points, workload_points
from specscope.report.writer import write_report
from specscope.store.db import Store

pytestmark = pytest.mark.slow

Session = browser_tests.Session
browser = browser_tests.browser
session = browser_tests.session

PAGE = "qwen2.5-coder-1.5b-cpu-q4-k-m-200-64-{}-draft-llamacpp.html"
CHAT = ["llamacpp", "2", "chat", "2", "40", "80", "55", "2.38", "0.688"]
CODE = ["llamacpp", "2", "code", "3", "30", "60", "56", "2.87", "0.933"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("workloads")
    with Store.open(work / "store.duckdb") as store:
        store.add_points(workload_points())
    return write_store_report(work / "store.duckdb", work / "report").out_dir


def _marked(row: list[str]) -> list[str]:
    return [*row[:2], row[2] + " (this page)", *row[3:]]


def _acceptance(session: Session) -> tuple[list[list[str]], list[str]]:
    """Cells of the per-workload acceptance table and the workloads of its marked rows."""
    rows = session.page.eval_on_selector_all(
        "#acc-workloads-table tbody tr",
        "els => els.map(e => Array.from(e.cells).map(c => c.textContent))",
    )
    marked = session.page.eval_on_selector_all(
        "#acc-workloads-table tbody tr.current", "els => els.map(e => e.dataset.workload)"
    )
    return rows, marked


def test_each_workload_page_sets_the_acceptance_of_both_side_by_side(
    session: Session, report: Path
) -> None:
    page = session.page
    session.open((report / PAGE.format("code")).as_uri())
    assert page.is_visible("#acc-workloads")
    assert page.text_content("#acc-workloads-heading") == "Acceptance per workload"
    assert _acceptance(session) == ([CHAT, _marked(CODE)], ["code"])
    headers = page.eval_on_selector_all(
        "#acc-workloads-table th", "els => els.map(e => e.textContent)"
    )
    assert headers == [
        "Engine", "g", "Workload", "Points", "Verify steps", "Drafted", "Accepted", "AL", "Rate r",
    ]  # fmt: skip
    assert "workload code" in page.title()
    assert "(ISL 200, OSL 64), workload code." in page.text_content("#subtitle")
    assert page.is_visible("#ctl-workload")
    options = page.eval_on_selector_all("#ctl-workload option", "els => els.map(e => e.value)")
    assert options == ["chat", "code"]
    assert page.input_value("#ctl-workload") == "code"

    session.open((report / PAGE.format("chat")).as_uri())
    assert _acceptance(session) == ([_marked(CHAT), CODE], ["chat"])
    assert all(url.startswith("file://") for url in session.requests)
    assert session.errors == []


def test_the_workload_control_switches_in_place_and_survives_a_reload(
    session: Session, report: Path
) -> None:
    page = session.page
    session.open((report / PAGE.format("code")).as_uri())
    # code: Off is 40, 30, 20 tok/s/GPU at 10, 15, 20 tok/s/user; the middle target is 16.
    assert session.cells(1)["throughput/off"][0] == pytest.approx(28.0)
    page.select_option("#ctl-workload", "chat")
    # chat: band 16–20, middle target 18; Off between (15, 30) and (20, 20) gives 24.
    assert session.cells(1)["throughput/off"][0] == pytest.approx(24.0)
    assert _acceptance(session)[1] == ["chat"]
    assert "wl=chat" in page.evaluate("location.hash")
    assert "workload chat" in page.title()
    # The chart draws the chat pair's two series (2 loads each), not the code pair's (3 each).
    measured = page.evaluate(
        "document.getElementById('chart').data"
        ".filter(t => t.mode === 'markers' && t.name !== 'at the targets').map(t => t.x.length)"
    )
    assert measured == [2, 2]
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.input_value("#ctl-workload") == "chat"
    assert _acceptance(session)[1] == ["chat"]
    assert session.errors == []


def test_a_page_without_workloads_shows_neither_the_control_nor_the_table(
    session: Session, tmp_path: Path
) -> None:
    write_report([sample_pair(sample_points())], tmp_path, list_presets())
    session.open((tmp_path / "index.html").as_uri())
    page = session.page
    assert not page.is_visible("#ctl-workload")
    assert not page.is_visible("#acc-workloads")
    assert page.title() == "llama-3.1-8b on h100 fp8: MTP (vllm) vs Off (vllm) · 1k/1k · specscope"
    assert "wl=" not in page.evaluate("location.hash")
    assert session.errors == []
