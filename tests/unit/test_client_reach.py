"""URL checks and the refused-connection probe behind fail-fast endpoints (issue 12 item 9)."""

from __future__ import annotations

import socket

import pytest

from specscope.client.reach import unreachable, url_problem
from specscope.engines import pick_free_port


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "https://api.example.com", "http://[::1]:8000/", "http://h:1/v1"],
)
def test_good_urls(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("not a url", "contains spaces"),
        ("", "empty"),
        ("localhost:8080", "not an http(s) URL"),
        ("ftp://host:21", "scheme 'ftp'"),
        ("http://", "names no host"),
        ("http://host:99999", "invalid port"),
        ("http://host:port", "invalid port"),
        ("http://host:0", "port 0"),
        ("http://host:80/?x=1", "without ?query"),
    ],
)
def test_bad_urls_say_why(url: str, words: str) -> None:
    problem = url_problem(url)
    assert problem is not None and words in problem
    assert "http://127.0.0.1:8080" in problem  # and how to write it


def test_refused_connection_is_reported_at_once() -> None:
    problem = unreachable(f"http://127.0.0.1:{pick_free_port()}", timeout_s=5.0)
    assert problem is not None and "connection refused" in problem


def test_listening_server_is_reachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert unreachable(f"http://127.0.0.1:{sock.getsockname()[1]}") is None
