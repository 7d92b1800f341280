"""The report: self-contained interactive comparison pages, PNG charts and Markdown.

Entry point: :func:`specscope.report.writer.write_report` (pairs in, a folder of files out);
:mod:`specscope.report.html` has the pieces for callers that assemble their own output. The
package imports nothing itself, so loading :mod:`specscope.report.models` stays cheap (the writer
pulls in matplotlib and plotly).
"""
