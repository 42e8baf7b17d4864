"""Fault injection: a misbehaving Gutenberg server, and what the user sees for each fault.

Most cases run at the `pipeline.gutenberg.Client` level (in-process, fast); a few run the real `luigi`
command for the exit code (30, [retcode] task_failed) and the one line `ERROR: Task(params): cause`.
Broken top pages at the parser and the fetch policy's allowed hosts need no server:
tests/unit/test_gutenberg.py.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import gutenberg as gb
from tests.support import REPO, MirrorServer, Reply, error_lines, mirror_dir, offline_args, run_luigi
from tests.support import gutenberg_client as client

BOOK = "/cache/epub/84/pg84.txt"
TOP = "/browse/scores/top"
DATE = "2026-11-20"


def book_bytes() -> bytes:
    """Book 84 as the mirror has it, read when a test runs (never at import)."""
    return (mirror_dir() / BOOK.lstrip("/")).read_bytes()


def top_page() -> str:
    """The mirror's top page, read when a test runs."""
    return (mirror_dir() / TOP.lstrip("/")).read_text(encoding="utf-8")


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# --- transient faults: retried, then the book ------------------------------------------------------


def test_503_then_500_then_the_book(mirror: MirrorServer, caplog: pytest.LogCaptureFixture) -> None:
    mirror.overrides[BOOK] = [Reply(503), Reply(500)]
    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        assert client().get(mirror.url + BOOK) == book_bytes()
    assert mirror.requests == [BOOK] * 3
    assert warnings_of(caplog) == [
        f"{mirror.url}{BOOK}: HTTP 503; retry 1/2 in 0.1s",
        f"{mirror.url}{BOOK}: HTTP 500; retry 2/2 in 0.1s",
    ]


def test_429_waits_retry_after_then_the_book(mirror: MirrorServer, caplog: pytest.LogCaptureFixture) -> None:
    mirror.overrides[BOOK] = [Reply(429, headers={"Retry-After": "1"})]
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        assert client().get(mirror.url + BOOK) == book_bytes()
    assert time.monotonic() - start >= 1.0
    assert warnings_of(caplog) == [f"{mirror.url}{BOOK}: HTTP 429; retry 1/2 in 1.0s"]


def test_reset_before_the_reply_then_the_book(mirror: MirrorServer, caplog: pytest.LogCaptureFixture) -> None:
    mirror.overrides[BOOK] = [Reply(reset=True)]
    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        assert client().get(mirror.url + BOOK) == book_bytes()
    assert warnings_of(caplog) == [f"{mirror.url}{BOOK}: connection reset; retry 1/2 in 0.1s"]


def test_reset_mid_body_then_the_book(mirror: MirrorServer, caplog: pytest.LogCaptureFixture) -> None:
    mirror.overrides[BOOK] = [mirror.file_reply(BOOK, reset_after=100_000)]
    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        assert client().get(mirror.url + BOOK) == book_bytes()
    assert len(mirror.requests) == 2
    assert warnings_of(caplog) == [f"{mirror.url}{BOOK}: connection reset; retry 1/2 in 0.1s"]


def test_stall_longer_than_read_timeout_then_the_book(
    mirror: MirrorServer, caplog: pytest.LogCaptureFixture
) -> None:
    mirror.overrides[BOOK] = [Reply(200, book_bytes(), delay=1.5), mirror.file_reply(BOOK, chunk_delay=1.5)]
    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        assert client(read_timeout=1.0).get(mirror.url + BOOK) == book_bytes()
    assert warnings_of(caplog) == [
        f"{mirror.url}{BOOK}: read timed out; retry 1/2 in 0.1s",
        f"{mirror.url}{BOOK}: read timed out; retry 2/2 in 0.1s",
    ]


def test_body_cut_short_then_the_book(mirror: MirrorServer, caplog: pytest.LogCaptureFixture) -> None:
    mirror.overrides[BOOK] = [Reply(200, book_bytes()[:1000], content_length=len(book_bytes()))]
    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        assert client().get(mirror.url + BOOK) == book_bytes()
    assert warnings_of(caplog) == [f"{mirror.url}{BOOK}: body cut short; retry 1/2 in 0.1s"]


# --- persistent faults: one line naming the URL and the cause ----------------------------------------


@pytest.mark.parametrize(
    ("reply", "cause"),
    [
        (lambda: Reply(503), "HTTP 503"),
        (lambda: Reply(reset=True), "connection reset"),
        (lambda: Reply(200, book_bytes(), reset_after=1000), "connection reset"),
        (lambda: Reply(200, book_bytes(), delay=1.5), "read timed out"),
        (lambda: Reply(200, b"x" * 100, content_length=1000), "body cut short"),
    ],
    ids=["503", "reset", "reset-mid-body", "stall", "cut-short"],
)
def test_persistent_fault_gives_up_with_one_line(
    http_server: MirrorServer, reply: Callable[[], Reply], cause: str
) -> None:
    http_server.overrides[BOOK] = reply()
    with pytest.raises(gb.GutenbergError) as info:
        client(max_attempts=2).get(http_server.url + BOOK)
    assert str(info.value) == f"{http_server.url}{BOOK}: {cause} (gave up after 2 attempts)"
    assert http_server.requests == [BOOK] * 2


def test_404_is_not_found_at_once(mirror: MirrorServer) -> None:
    with pytest.raises(gb.NotFoundError) as info:
        client().get(f"{mirror.url}/cache/epub/999999/pg999999.txt")
    assert str(info.value) == f"{mirror.url}/cache/epub/999999/pg999999.txt: HTTP 404"
    assert len(mirror.requests) == 1


def test_empty_body_and_html_are_returned_for_the_task_to_judge(http_server: MirrorServer) -> None:
    http_server.overrides["/empty"] = Reply(200, b"")
    http_server.overrides["/captcha"] = Reply(200, b"<!DOCTYPE html><html>captcha</html>")
    assert client().get(http_server.url + "/empty") == b""
    assert gb.looks_like_html(client().get(http_server.url + "/captcha"))


# --- caps: size (decoded) and time -----------------------------------------------------------------


def test_body_over_the_cap_without_content_length_is_refused_while_streaming(
    http_server: MirrorServer,
) -> None:
    http_server.overrides["/big"] = Reply(200, b"x" * 300_000, content_length=-1)
    with pytest.raises(gb.GutenbergError) as info:
        client(max_bytes=100_000).get(http_server.url + "/big")
    assert str(info.value) == f"{http_server.url}/big: body exceeds the 100000-byte cap"
    assert len(http_server.requests) == 1


def test_gzip_is_not_asked_for_and_its_decoded_size_is_capped(http_server: MirrorServer) -> None:
    bomb = gzip.compress(b"0" * 5_000_000)
    assert len(bomb) < 10_000
    http_server.overrides["/bomb"] = Reply(200, bomb, headers={"Content-Encoding": "gzip"})
    http_server.overrides["/small"] = Reply(
        200, gzip.compress(b"hello"), headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(gb.GutenbergError) as info:
        client(max_bytes=1_000_000).get(http_server.url + "/bomb")
    assert str(info.value) == f"{http_server.url}/bomb: body exceeds the 1000000-byte cap"
    assert client().get(http_server.url + "/small") == b"hello"
    assert {h.get("Accept-Encoding") for h in http_server.request_headers} == {"identity"}


def test_trickle_over_max_seconds_is_refused_without_retry(mirror: MirrorServer) -> None:
    mirror.overrides[BOOK] = mirror.file_reply(BOOK, chunk_size=20_000, chunk_delay=0.2)
    start = time.monotonic()
    with pytest.raises(gb.GutenbergError) as info:
        client(max_seconds=1.0).get(mirror.url + BOOK)
    assert str(info.value) == f"{mirror.url}{BOOK}: download took longer than the 1-second cap"
    assert time.monotonic() - start < 3
    assert mirror.requests == [BOOK]


# --- redirects and the fetch policy ------------------------------------------------------------------


def test_redirect_to_the_same_host_is_followed(mirror: MirrorServer) -> None:
    mirror.overrides["/ebooks/84.txt.utf-8"] = Reply.redirect(mirror.url + BOOK)
    mirror.overrides["/relative"] = Reply.redirect("/ebooks/84.txt.utf-8", status=301)
    assert client().get(mirror.url + "/relative") == book_bytes()
    assert mirror.requests == ["/relative", "/ebooks/84.txt.utf-8", BOOK]


def test_redirect_to_another_host_is_refused(mirror: MirrorServer) -> None:
    mirror.overrides[BOOK] = Reply.redirect("http://evil.example/pg84.txt")
    with pytest.raises(gb.RefusedError) as info:
        client(base_url=mirror.url).get(mirror.url + BOOK)
    assert str(info.value) == (
        f"{mirror.url}{BOOK}: redirect to http://evil.example/pg84.txt: refused: host evil.example is not "
        f"the Gutenberg host 127.0.0.1:{mirror.port} (nor in [gutenberg] allowed_hosts)"
    )
    assert mirror.requests == [BOOK]


def test_redirect_to_another_port_is_another_host(mirror: MirrorServer) -> None:
    mirror.overrides[BOOK] = Reply.redirect(f"http://127.0.0.1:{mirror.port + 1}{BOOK}")
    with pytest.raises(gb.RefusedError, match="is not the Gutenberg host"):
        client().get(mirror.url + BOOK)


def test_redirect_to_an_allowed_host_at_a_loopback_address_is_refused(mirror: MirrorServer) -> None:
    target = f"http://localhost:{mirror.port}{BOOK}"
    mirror.overrides["/elsewhere"] = Reply.redirect(target)
    with pytest.raises(gb.RefusedError) as info:
        client(allowed_hosts=f"localhost:{mirror.port}").get(mirror.url + "/elsewhere")
    assert str(info.value).startswith(
        f"{mirror.url}/elsewhere: redirect to {target}: refused: host localhost:{mirror.port} "
        "is a private or loopback address ("
    )
    assert mirror.requests == ["/elsewhere"]


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/pg84.txt", "gopher://x/"])
def test_redirect_to_another_scheme_is_refused(mirror: MirrorServer, location: str) -> None:
    mirror.overrides[BOOK] = Reply.redirect(location)
    scheme = location.split(":")[0]
    with pytest.raises(gb.RefusedError) as info:
        client().get(mirror.url + BOOK)
    assert str(info.value) == (
        f"{mirror.url}{BOOK}: redirect to {location}: refused: scheme '{scheme}' is not http or https"
    )


def test_redirect_loop_stops_after_five(mirror: MirrorServer) -> None:
    mirror.overrides["/loop"] = Reply.redirect("/loop")
    with pytest.raises(gb.GutenbergError) as info:
        client().get(mirror.url + "/loop")
    assert str(info.value) == f"{mirror.url}/loop: more than 5 redirects (last to {mirror.url}/loop)"
    assert mirror.requests == ["/loop"] * 6


def test_only_the_configured_host_is_fetched(mirror: MirrorServer) -> None:
    http = client(base_url="https://www.gutenberg.org", allowed_hosts=f"127.0.0.1:{mirror.port}")
    with pytest.raises(gb.RefusedError) as info:
        http.get("http://169.254.169.254/latest/meta-data/")
    assert "refused: host 169.254.169.254 is not the Gutenberg host www.gutenberg.org" in str(info.value)
    with pytest.raises(gb.RefusedError, match=r"is a private or loopback address \(127\.0\.0\.1\)$"):
        http.get(mirror.url + BOOK)
    assert mirror.requests == []
    # The configured base URL is trusted even on loopback: that is how the tests and a local mirror work.
    assert client(base_url=mirror.url).get(mirror.url + BOOK) == book_bytes()


# --- through the real luigi command --------------------------------------------------------------------


def page_with(entries: str) -> str:
    return f'<html><body><h2 id="books-last1">Top</h2>\n<ol>\n{entries}</ol></body></html>'


def luigi_args(server: MirrorServer, root: Path, *extra: str) -> list[str]:
    return [
        *offline_args(server.url, root, date=None),
        "--gutenberg-read-timeout",
        "1",
        "--gutenberg-backoff-seconds",
        "0.05",
        "--gutenberg-max-attempts",
        "2",
        *extra,
    ]


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()) if path.exists() else []


CAPTCHA = b"<!DOCTYPE html><html>captcha</html>"
OTHER_HOST = "http://evil.example/pg84.txt"
# case: (the reply for the book's first URL, made from the server, or None for the file; extra flags; the
# cause after "ERROR: DownloadBook(book_id=84): ")
DOWNLOAD_FAILURES: dict[str, tuple[Callable[[MirrorServer], Reply] | None, list[str], str]] = {
    "empty": (lambda mirror: Reply(200, b""), [], "book 84: {url}: empty response"),
    "captcha": (lambda mirror: Reply(200, CAPTCHA), [], "book 84: {url}: HTML page, not plain text"),
    "over-cap": (
        None,
        ["--gutenberg-max-bytes", "1000"],
        "{url}: body of 450783 bytes exceeds the 1000-byte cap",
    ),
    "cut-short": (
        lambda mirror: Reply(200, book_bytes()[:1000], content_length=len(book_bytes())),
        [],
        "{url}: body cut short (gave up after 2 attempts)",
    ),
    "reset": (lambda mirror: Reply(reset=True), [], "{url}: connection reset (gave up after 2 attempts)"),
    "stall": (
        lambda mirror: Reply(200, book_bytes(), delay=1.5),
        [],
        "{url}: read timed out (gave up after 2 attempts)",
    ),
    "trickle": (
        lambda mirror: mirror.file_reply(BOOK, chunk_size=20_000, chunk_delay=0.2),
        ["--gutenberg-max-seconds", "1"],
        "{url}: download took longer than the 1-second cap",
    ),
    "redirect-other-host": (
        lambda mirror: Reply.redirect(OTHER_HOST),
        [],
        "{url}: redirect to " + OTHER_HOST + ": refused: host evil.example is not the Gutenberg host {host} "
        "(nor in [gutenberg] allowed_hosts)",
    ),
}


@pytest.mark.parametrize("case", list(DOWNLOAD_FAILURES))
def test_failed_download_exits_30_with_one_line_and_leaves_no_file(
    mirror: MirrorServer, tmp_path: Path, case: str
) -> None:
    reply, flags, cause = DOWNLOAD_FAILURES[case]
    if reply is not None:
        mirror.overrides[BOOK] = reply(mirror)
    root = tmp_path / "data"
    result = run_luigi("DownloadBook", "--book-id", "84", *luigi_args(mirror, root, *flags), cwd=REPO)
    assert result.returncode == 30, result.stderr[-3000:]
    expected = cause.format(url=mirror.url + BOOK, host=f"127.0.0.1:{mirror.port}")
    assert error_lines(result.stderr) == [f"ERROR: DownloadBook(book_id=84): {expected}"]
    assert not (root / "raw" / "84" / "pg84.txt").exists()
    assert files_under(root) == []


def test_retried_download_succeeds_through_luigi(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.overrides[BOOK] = [Reply(503), Reply(reset=True)]
    root = tmp_path / "data"
    result = run_luigi(
        "DownloadBook",
        "--book-id",
        "84",
        *luigi_args(mirror, root, "--gutenberg-max-attempts", "3"),
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (root / "raw" / "84" / "pg84.txt").read_bytes() == book_bytes()
    assert f"WARNING: {mirror.url}{BOOK}: HTTP 503; retry 1/2 in 0.1s" in result.stderr
    assert f"WARNING: {mirror.url}{BOOK}: connection reset; retry 2/2 in 0.1s" in result.stderr
    assert error_lines(result.stderr) == []


def test_book_404_everywhere_is_skipped_and_the_next_used(mirror: MirrorServer, tmp_path: Path) -> None:
    ghost = '<li><a href="/ebooks/999999">A Lost Book by Nobody (1000)</a></li>\n'
    mirror.overrides[TOP] = Reply(200, top_page().replace("<ol>\n", "<ol>\n" + ghost, 1).encode())
    root = tmp_path / "data"
    args = ["CorpusParquet", "--n-books", "2", "--date", DATE, *luigi_args(mirror, root)]
    result = run_luigi(*args, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WARNING: book 999999: not found (404) at" in result.stderr
    assert (root / "raw" / "999999" / "missing.json").exists()
    assert not (root / "raw" / "999999" / "pg999999.txt").exists()
    manifest = json.loads((root / "corpus" / "yesterday" / DATE / "books-2" / "_books.json").read_text())
    assert [b["book_id"] for b in manifest["books"]] == [1342, 1232]
    assert [b["book_id"] for b in manifest["skipped"]] == [999999]


@pytest.mark.parametrize(
    ("page", "cause"),
    [
        (
            lambda: top_page().replace('id="books-last1"', 'id="books-other"'),
            "{url}: no <h2 id=\"books-last1\"> section (period 'yesterday')",
        ),
        (
            lambda: page_with('<li><a href="/ebooks/abc">Odd by Nobody (5)</a></li>\n'),
            "{url}: unexpected entry '/ebooks/abc' 'Odd by Nobody (5)' in section books-last1",
        ),
    ],
    ids=["no-section", "non-numeric-id"],
)
def test_bad_top_page_exits_30_with_one_line(
    mirror: MirrorServer, tmp_path: Path, page: Callable[[], str], cause: str
) -> None:
    mirror.overrides[TOP] = Reply(200, page().encode())
    root = tmp_path / "data"
    result = run_luigi("TopBooks", "--date", DATE, *luigi_args(mirror, root), cwd=REPO)
    assert result.returncode == 30, result.stderr[-3000:]
    expected = cause.format(url=mirror.url + TOP)
    assert error_lines(result.stderr) == [f"ERROR: TopBooks(date={DATE}, period=yesterday): {expected}"]
    assert files_under(root) == []


def test_top_page_with_duplicates_lists_each_book_once(mirror: MirrorServer, tmp_path: Path) -> None:
    page = page_with(
        '<li><a href="/ebooks/84">Frankenstein by Mary Shelley (9)</a></li>\n'
        '<li><a href="/ebooks/84">Frankenstein by Mary Shelley (9)</a></li>\n'
        '<li><a href="/ebooks/11">Alice by Lewis Carroll (8)</a></li>\n'
    )
    mirror.overrides[TOP] = Reply(200, page.encode())
    root = tmp_path / "data"
    result = run_luigi("CorpusParquet", "--n-books", "2", "--date", DATE, *luigi_args(mirror, root), cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    top = json.loads((root / "top_books" / "yesterday" / f"{DATE}.json").read_text())
    assert [b["book_id"] for b in top["books"]] == [84, 11]
    manifest = json.loads((root / "corpus" / "yesterday" / DATE / "books-2" / "_books.json").read_text())
    assert [b["book_id"] for b in manifest["books"]] == [84, 11]
    assert mirror.requests.count(BOOK) == 1


def test_top_page_with_3_books_when_20_are_asked_for(mirror: MirrorServer, tmp_path: Path) -> None:
    page = page_with(
        '<li><a href="/ebooks/84">Frankenstein by Mary Shelley (9)</a></li>\n'
        '<li><a href="/ebooks/11">Alice by Lewis Carroll (8)</a></li>\n'
        '<li><a href="/ebooks/76">Huck by Mark Twain (6)</a></li>\n'
    )
    mirror.overrides[TOP] = Reply(200, page.encode())
    root = tmp_path / "data"
    result = run_luigi(
        "CorpusParquet", "--n-books", "20", "--date", DATE, *luigi_args(mirror, root), cwd=REPO
    )
    assert result.returncode == 30, result.stderr[-3000:]
    assert f"WARNING: {mirror.url}{TOP} lists 3 books for yesterday; 20 asked for" in result.stderr
    # One line naming the task, the list and the shortfall (the wording of the rest is tasks.py's).
    [line] = error_lines(result.stderr)
    assert line.startswith(
        f"ERROR: CorpusParquet(date={DATE}, period=yesterday, n_books=20): {mirror.url}{TOP}: "
        "only 3 of the 20 books asked for are "
    )
    assert not (root / "corpus").exists()
