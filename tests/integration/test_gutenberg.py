"""pipeline/gutenberg.py for real: the top-page parser on the shared mirror; the HTTP client against a
loopback server (the parser on literal pages is in tests/unit/test_gutenberg.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeline import gutenberg as gb
from tests.support import MirrorServer, Reply, gutenberg_client, mirror_dir


def fast_client(**overrides: float) -> gb.Client:
    """The support client with quicker retries, a longer read timeout and a 1 MB cap."""
    return gutenberg_client(
        **{"read_timeout": 2.0, "backoff_seconds": 0.01, "max_bytes": 1_000_000, **overrides}
    )


def test_parse_shared_mirror_top_page() -> None:
    page = (mirror_dir() / "browse" / "scores" / "top").read_text(encoding="utf-8")
    yesterday = gb.parse_top_page(page, "yesterday")
    assert len(yesterday) == 23
    assert yesterday[:2] == [
        gb.RankedBook(1, 1342, "Pride and Prejudice", "Jane Austen", 1435),
        gb.RankedBook(2, 1232, "The Prince", "Niccolò Machiavelli", 969),
    ]
    assert yesterday[4] == gb.RankedBook(5, 2591, "Grimms' Fairy Tales", "Jacob Grimm and Wilhelm Grimm", 831)
    last7 = gb.parse_top_page(page, "last7")
    assert [b.book_id for b in last7] == [b.book_id for b in yesterday]
    assert last7[0].downloads == 1435 * 7
    assert gb.parse_top_page(page, "last30")[0].downloads == 1435 * 30


def test_get_serves_bytes_and_sends_user_agent(mirror: MirrorServer) -> None:
    body = fast_client().get(f"{mirror.url}/cache/epub/84/pg84.txt")
    assert body == (mirror_dir() / "cache" / "epub" / "84" / "pg84.txt").read_bytes()


def test_retries_5xx_then_succeeds(http_server: MirrorServer) -> None:
    replies = iter([Reply(503), Reply(500), Reply(200, b"text")])
    http_server.overrides["/book"] = lambda: next(replies)
    assert fast_client().get(f"{http_server.url}/book") == b"text"
    assert http_server.requests == ["/book"] * 3


def test_429_honours_retry_after(http_server: MirrorServer, caplog: pytest.LogCaptureFixture) -> None:
    replies = iter([Reply(429, headers={"Retry-After": "1"}), Reply(200, b"ok")])
    http_server.overrides["/book"] = lambda: next(replies)
    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        assert fast_client().get(f"{http_server.url}/book") == b"ok"
    assert [r.getMessage() for r in caplog.records] == [
        f"{http_server.url}/book: HTTP 429; retry 1/2 in 1.0s"
    ]


def test_gives_up_with_one_line_after_max_attempts(http_server: MirrorServer) -> None:
    http_server.overrides["/book"] = Reply(500)
    with pytest.raises(gb.GutenbergError) as info:
        fast_client().get(f"{http_server.url}/book")
    assert str(info.value) == f"{http_server.url}/book: HTTP 500 (gave up after 3 attempts)"
    assert len(http_server.requests) == 3


def test_404_is_not_found_and_not_retried(http_server: MirrorServer) -> None:
    with pytest.raises(gb.NotFoundError, match=r"/missing: HTTP 404$"):
        fast_client().get(f"{http_server.url}/missing")
    assert http_server.requests == ["/missing"]


def test_other_4xx_fails_at_once(http_server: MirrorServer) -> None:
    http_server.overrides["/forbidden"] = Reply(403)
    with pytest.raises(gb.GutenbergError, match=r"/forbidden: HTTP 403 Forbidden$"):
        fast_client().get(f"{http_server.url}/forbidden")
    assert len(http_server.requests) == 1


def test_connection_refused_is_named() -> None:
    with MirrorServer(Path("/nonexistent")) as server:
        url = server.url
    with pytest.raises(gb.GutenbergError) as info:
        fast_client(max_attempts=2).get(f"{url}/x")
    assert str(info.value) == f"{url}/x: connection refused (gave up after 2 attempts)"


def test_body_over_the_cap_is_refused(http_server: MirrorServer) -> None:
    http_server.overrides["/big"] = Reply(200, b"x" * 2000)
    with pytest.raises(gb.GutenbergError, match=r"/big: body of 2000 bytes exceeds the 1000-byte cap$"):
        fast_client(max_bytes=1000).get(f"{http_server.url}/big")
