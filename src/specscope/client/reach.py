"""Is there a server at the URL the user gave? Checked before anything waits on it.

Two questions, both answered without HTTP: is the text a URL a client can send to at all
(:func:`url_problem`), and does anything accept connections there right now
(:func:`unreachable`). A refused connection comes back at once, and for a server the user points
at it is final: nothing specscope does will start it, so waiting out a health timeout (a minute
for ``bench``, five for ``sweep``) only hides the mistake. A server specscope launched itself is
different (it may still be loading its model), and its health wait keeps polling while its
process is alive; these checks are not for it.
"""

from __future__ import annotations

import socket
from urllib.parse import SplitResult, urlsplit

SCHEMES = ("http", "https")
CONNECT_TIMEOUT_S = 5.0
"""How long :func:`unreachable` waits for the TCP handshake; a slow answer is not a refusal."""


def _split(url: str) -> tuple[SplitResult | None, int | None]:
    try:
        parts = urlsplit(url.strip())
        return parts, parts.port
    except ValueError:  # a port that is not a number, or out of range
        return None, None


def url_problem(url: str) -> str | None:
    """Why ``url`` is not the base URL of an HTTP server (one clause, naming the fix), or None."""
    example = "e.g. http://127.0.0.1:8080"
    if not url or not url.strip():
        return f"the URL is empty; give the server's base URL, {example}"
    if any(ch.isspace() for ch in url.strip()):
        return f"{url!r} is not a URL (it contains spaces); give the server's base URL, {example}"
    parts, port = _split(url)
    if parts is None:
        return f"{url!r} has an invalid port; ports are whole numbers 1-65535, {example}"
    if parts.scheme.lower() not in SCHEMES:
        return (
            f"{url!r} is not an http(s) URL; write the scheme and host, {example}"
            if "://" not in url
            else f"{url!r}: scheme {parts.scheme!r} is not supported; use http or https, {example}"
        )
    if not parts.hostname:
        return f"{url!r} names no host; write the host and port, {example}"
    if port == 0:
        return f"{url!r} has port 0; give the port the server listens on, {example}"
    if parts.query or parts.fragment:
        return f"{url!r}: give the base URL only, without ?query or #fragment, {example}"
    return None


def unreachable(url: str, timeout_s: float = CONNECT_TIMEOUT_S) -> str | None:
    """Why nothing can be reached at ``url`` for certain (the connection was refused, or the host
    name does not resolve), or None: something accepted the connection, or the answer was slow
    (a slow network is not a verdict; the caller's health wait decides)."""
    parts, port = _split(url)
    if parts is None or not parts.hostname:
        return url_problem(url) or f"{url!r} is not a URL"
    host = parts.hostname
    port = port or (443 if parts.scheme.lower() == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except ConnectionRefusedError:
        return f"nothing listens at {host}:{port} (connection refused)"
    except socket.gaierror as exc:
        if exc.errno != socket.EAI_NONAME:  # a DNS hiccup (EAI_AGAIN...) is not a verdict
            return None
        return f"host {host!r} is not known ({exc.strerror or exc})"
    except OSError:  # a timeout, an unreachable network: not final, the health wait decides
        return None
