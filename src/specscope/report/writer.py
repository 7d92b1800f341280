"""Write a report folder: HTML pages, PNG charts, ``report.md`` and the index.

One pair: ``index.html`` is its page, with ``hero.png``, ``acceptance.png`` and ``report.md``.
Several pairs: one page per pair (named from model, hardware, precision, sequence, workload,
method and engine), ``<page>-hero.png`` / ``<page>-acceptance.png`` beside each, one
``report.md`` with a section per pair, and ``index.html`` listing them all.

Each page holds, besides its own pair, the other pairs of the same model and hardware (and any
``context`` pairs of them) so its sequence, workload, precision, method and engine controls
switch in place; the model and hardware controls link to the other pages. When that family
would push a page past :data:`PAGE_BUDGET_BYTES`, the page holds a narrower family (same
precision, then same sequence, then the pair alone).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from specscope.analysis.economics import Preset
from specscope.analysis.narrative import display_name
from specscope.errors import UserError
from specscope.files import write_atomic
from specscope.report.acceptance import acceptance_by_depth
from specscope.report.html import plotly_js, render_index, render_page_json
from specscope.report.markdown import render_markdown
from specscope.report.models import AcceptanceByDepth, PairFiles, ReportOutput, ReportPair
from specscope.report.payload import PayloadCache, build_payload, embed_json, headline, pair_key
from specscope.report.png import write_acceptance_png, write_hero_png

PAGE_BUDGET_BYTES = 6_000_000
"""Largest page the writer aims for, charting library included."""

_PAGE_OVERHEAD_BYTES = 80_000
"""Template, stylesheet and page script, rounded up."""

_SLUG_UNSAFE = re.compile(r"[^a-z0-9.]+")


def _slug(pair: ReportPair) -> str:
    key = pair_key(pair)
    fields = ("model", "hardware", "precision", "sequence", "workload", "method", "engine")
    parts = [key[k] for k in fields if key[k]]
    text = _SLUG_UNSAFE.sub("-", "-".join(parts).lower()).strip("-.")
    return text[:120] or "comparison"


def _unique_names(pairs: Sequence[ReportPair]) -> list[str]:
    seen: dict[str, int] = {}
    names: list[str] = []
    for pair in pairs:
        base = _slug(pair)
        if base == "index":
            base = "index-pair"
        count = seen.get(base, 0) + 1
        seen[base] = count
        names.append(base if count == 1 else f"{base}-{count}")
    return names


def page_title(pair: ReportPair) -> str:
    cmp = pair.comparison
    return (
        f"{cmp.model} on {cmp.hardware} {cmp.precision}, {cmp.slice_label}: "
        f"{display_name(cmp.spec.label)} vs {display_name(cmp.off.label)}"
    )


_FAMILY_LEVELS: tuple[tuple[str, ...], ...] = (
    ("model", "hardware"),
    ("model", "hardware", "precision"),
    ("model", "hardware", "precision", "sequence"),
)


def _family(
    pair: ReportPair, candidates: Sequence[ReportPair], fields: Sequence[str]
) -> list[ReportPair]:
    key = pair_key(pair)
    return [c for c in candidates if all(pair_key(c)[f] == key[f] for f in fields)]


def _fit_page(
    pair: ReportPair,
    candidates: Sequence[ReportPair],
    make: Callable[[list[ReportPair]], dict[str, object]],
) -> str:
    """The embedded JSON of the widest family that keeps the page within the budget."""
    budget = PAGE_BUDGET_BYTES - len(plotly_js().encode()) - _PAGE_OVERHEAD_BYTES
    for fields in _FAMILY_LEVELS:
        data = embed_json(make(_family(pair, candidates, fields)))
        if len(data.encode()) <= budget:
            return data
    return embed_json(make([pair]))


def write_report(
    pairs: Sequence[ReportPair],
    out_dir: Path,
    presets: Sequence[Preset],
    *,
    context: Sequence[ReportPair] = (),
) -> ReportOutput:
    """Write pages, PNGs and ``report.md`` for ``pairs`` into ``out_dir`` (created if needed).

    ``presets`` fill the page's price/power selector (``analysis.economics.list_presets()``).
    ``context`` pairs get no page of their own but can be switched to in place on the pages of
    the same model and hardware (e.g. the other sequences when the filters selected one pair).
    """
    if not pairs:
        raise UserError(
            "nothing to report: the filters select no comparable pair; loosen them or check "
            "'specscope compare' with the same filters"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    single = len(pairs) == 1
    names = ["index"] if single else _unique_names(pairs)
    page_files = [f"{name}.html" for name in names]
    pages = [
        {**pair_key(pair), "file": file, "headline": headline(pair)}
        for pair, file in zip(pairs, page_files, strict=True)
    ]
    file_of = {id(pair): file for pair, file in zip(pairs, page_files, strict=True)}
    candidates = [*pairs, *(c for c in context if id(c) not in file_of)]
    cache = PayloadCache()
    written_pages: list[Path] = []
    pngs: list[Path] = []
    page_bytes: dict[str, int] = {}
    pair_files: list[PairFiles] = []
    acceptance: list[list[AcceptanceByDepth]] = []
    for pair, name, file in zip(pairs, names, page_files, strict=True):
        title = page_title(pair)

        def make(
            members: list[ReportPair], pair: ReportPair = pair, title: str = title
        ) -> dict[str, object]:
            return build_payload(
                views=members,
                default_view=members.index(pair),
                presets=presets,
                pages=pages,
                view_files=[file_of.get(id(m)) for m in members],
                title=title,
                cache=cache,
            )

        data = _fit_page(pair, candidates, make)
        text = render_page_json(data, title)
        path = write_atomic(out_dir / file, text)
        written_pages.append(path)
        page_bytes[file] = len(text.encode("utf-8"))

        prefix = "" if single else f"{name}-"
        hero = write_hero_png(pair, out_dir / f"{prefix}hero.png")
        pngs.append(hero)
        rows = (
            pair.acceptance
            if pair.acceptance is not None
            else acceptance_by_depth(pair.spec_points)
        )
        acceptance.append(rows)
        acc_name: str | None = None
        if rows:
            acc = write_acceptance_png(
                rows,
                f"Acceptance: {title}",
                out_dir / f"{prefix}acceptance.png",
                by_workload=pair.comparison.acceptance_by_workload,
                workload=pair.comparison.workload,
            )
            pngs.append(acc)
            acc_name = acc.name
        pair_files.append(
            PairFiles(
                page=file, hero_png=hero.name, acceptance_png=acc_name, headline=headline(pair)
            )
        )

    markdown = write_atomic(out_dir / "report.md", render_markdown(pairs, pair_files, acceptance))
    index = out_dir / "index.html"
    if not single:
        index_text = render_index(pages)
        write_atomic(index, index_text)
        page_bytes["index.html"] = len(index_text.encode("utf-8"))
    return ReportOutput(
        out_dir=out_dir,
        index=index,
        pages=written_pages,
        pngs=pngs,
        markdown=markdown,
        pairs=pair_files,
        page_bytes=page_bytes,
    )
