"""HTML: the self-contained comparison page and the index of pages.

A comparison page is one file: the template, the stylesheet, the data as JSON, plotly.js (read
from the installed ``plotly`` package, never fetched) and the page script. A Content-Security-
Policy pins the two scripts by hash and allows no network connection, so the page works offline
and an injected ``<script>`` could not run even if escaping ever failed.

The page script is joined from ``assets/js``: the math modules (:data:`MATH_MODULES`, plain
scripts that add their functions to ``globalThis.specscope``, each reading the ones before it,
and loadable by Node) in that order, then the page files (:data:`PAGE_MODULES`: DOM and Plotly)
inside one function, so they share its scope.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from importlib import resources

from specscope.errors import UserError

_PLACEHOLDER = re.compile(r"\{\{([A-Z]+)\}\}")

MATH_MODULES = (
    "format.js",
    "tie.js",
    "stats.js",
    "frontier.js",
    "interpolate.js",
    "narrative.js",
    "compare.js",
    "caveats.js",
    "theory.js",
)
"""The page's pure math under ``assets/js``, in load order (each reads only those before it)."""

PAGE_MODULES = ("state.js", "controls.js", "chart.js", "table.js", "panels.js", "main.js")
"""The page's DOM and Plotly code under ``assets/js/page``, in order (``main.js`` starts it)."""


def _asset(name: str) -> str:
    return (resources.files("specscope.report") / "assets" / name).read_text(encoding="utf-8")


@functools.cache
def page_script() -> str:
    """The page script: the math modules, then the page files inside one function."""
    math = [_asset(f"js/{name}") for name in MATH_MODULES]
    page = [_asset(f"js/page/{name}") for name in PAGE_MODULES]
    return "\n".join([*math, "(function () {", "'use strict';", *page, "})();", ""])


@functools.cache
def plotly_js() -> str:
    """The minified plotly.js bundled with the ``plotly`` Python package."""
    try:
        bundle = resources.files("plotly") / "package_data" / "plotly.min.js"
        text = bundle.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise UserError(
            "the HTML report needs plotly.js from the 'plotly' Python package, which is not "
            "installed; install it with: pip install plotly"
        ) from exc
    return _script_safe(text)


def _script_safe(source: str) -> str:
    """Script text that cannot end its ``<script>`` element early."""
    return re.sub(r"</(script)", r"<\\/\1", source, flags=re.IGNORECASE)


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{{NAME}}`` placeholders in one pass (a value is never scanned for more)."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def render_page_json(data: str, title: str) -> str:
    """One comparison page from payload JSON already escaped by
    :func:`specscope.report.payload.embed_json`."""
    plotly = plotly_js()
    script = _script_safe(page_script())
    csp = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_csp_hash(plotly)} {_csp_hash(script)}",
            "style-src 'unsafe-inline'",
            "img-src data: blob:",
            "font-src data:",
            "connect-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    return _fill(
        _asset("page.html"),
        {
            "CSP": csp,
            "TITLE": html.escape(title),
            "CSS": _asset("report.css"),
            "DATA": data,
            "PLOTLY": plotly,
            "SCRIPT": script,
        },
    )


_INDEX_COLUMNS = ("Model", "Hardware", "Precision", "Sequence", "Method", "Engine", "Headline")


def render_index(rows: Sequence[Mapping[str, str]], title: str = "specscope comparisons") -> str:
    """The index page: one row per pair with its headline ratio and a link to its page.

    Each row has the keys ``model``, ``hardware``, ``precision``, ``sequence``, ``method``,
    ``engine``, ``headline`` and ``file`` (relative link), and optionally ``workload`` (a
    Workload column appears when any row names one). Every value is escaped.
    """
    esc = html.escape
    keys = ["model", "hardware", "precision", "sequence", "method", "engine"]
    columns = list(_INDEX_COLUMNS)
    if any(row.get("workload") for row in rows):
        keys.insert(4, "workload")
        columns.insert(4, "Workload")
    body: list[str] = []
    ordered = sorted(rows, key=lambda r: [r.get(k, "") for k in keys[:5]])
    for row in ordered:
        cells = [esc(row.get(key, "")) for key in keys]
        link = f'<a href="{esc(row["file"], quote=True)}">{esc(row["headline"])}</a>'
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + f"<td>{link}</td></tr>")
    head = "".join(f'<th scope="col">{c}</th>' for c in columns)
    count = f"{len(rows)} comparison{'s' if len(rows) != 1 else ''}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
        f"<title>{esc(title)}</title>\n<style>{_asset('report.css')}</style>\n</head>\n<body>\n"
        f"<header><h1>{esc(title)}</h1>\n"
        f'<p class="note">{count}: speculative decoding against Off at matched interactivity. '
        "Each headline is the cost ratio at the middle target of the pair's band; open a page for "
        "the chart, the table at editable targets, acceptance and the explain panel.</p></header>\n"
        '<main><div class="table-wrap"><table id="pairs" class="index">\n'
        f"<caption>Comparable pairs</caption>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table></div></main>\n"
        '<footer><p class="note">Written by specscope; works offline.</p></footer>\n'
        "</body>\n</html>\n"
    )
