"""Books from mirrors, through the real `luigi` command: the top page from one loopback server, the books
from mirrors on others (one per layout), failover when a mirror dies, every mirror down and the rerun,
and a mirror's redirect to an unlisted host. The servers' request logs say who was asked for what.

The mirrors are folders of symbolic links to the shared mirror's files, laid out as each layout says
(written here from Gutenberg's rules, not from pipeline/mirrors.py)."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

from tests.support import (
    REPO,
    MirrorServer,
    Reply,
    error_lines,
    expected_top_words_csv,
    listed_ids,
    mirror_dir,
    run_luigi,
)

DATE = "2026-11-20"
TOP = "/browse/scores/top"
HOLD = 0.3


def top_ids(n: int) -> list[int]:
    return listed_ids((mirror_dir() / "browse" / "scores" / "top").read_text(encoding="utf-8"))[:n]


def shared_book(book_id: int) -> Path:
    return mirror_dir() / "cache" / "epub" / str(book_id) / f"pg{book_id}.txt"


def epub_path(book_id: int) -> str:
    return f"/cache/epub/{book_id}/pg{book_id}.txt"


def numbered_folder(book_id: int) -> str:
    digits = str(book_id)
    return "/" + "/".join(digits[:-1] or "0") + f"/{book_id}"


def epub_tree(root: Path, ids: list[int]) -> Path:
    """A generated-collection mirror: cache/epub/N/pgN.txt."""
    for book_id in ids:
        (root / epub_path(book_id).lstrip("/")).parent.mkdir(parents=True)
        (root / epub_path(book_id).lstrip("/")).symlink_to(shared_book(book_id))
    return root


def numbered_tree(root: Path, ids: list[int], suffixes: dict[int, str] | None = None) -> Path:
    """A main-collection mirror: 1/0/2/3/10234/10234-0.txt, or `-8`, or no suffix as `suffixes` says."""
    for book_id in ids:
        folder = root / numbered_folder(book_id).lstrip("/")
        folder.mkdir(parents=True)
        suffix = (suffixes or {}).get(book_id, "-0")
        (folder / f"{book_id}{suffix}.txt").symlink_to(shared_book(book_id))
    return root


def served_paths(root: Path) -> list[str]:
    """The URL paths of the book files a mirror folder holds."""
    return ["/" + str(path.relative_to(root)) for path in root.rglob("*.txt")]


def numbered_tries(book_id: int, suffix: str) -> list[str]:
    """The GETs a numbered mirror sees for a book stored with `suffix`: -0, then -8, then none."""
    order = ["-0", "-8", ""]
    return [f"{numbered_folder(book_id)}/{book_id}{s}.txt" for s in order[: order.index(suffix) + 1]]


def mirror_args(top: MirrorServer, mirrors: str, root: Path, *extra: str, dated: bool = True) -> list[str]:
    """The top page from `top`, the books from `mirrors`, no delay, three quick attempts per URL."""
    return [
        "--local-scheduler",
        *(["--date", DATE] if dated else []),
        "--gutenberg-base-url",
        top.url,
        "--gutenberg-mirrors",
        mirrors,
        "--gutenberg-delay-seconds",
        "0",
        "--gutenberg-max-attempts",
        "3",
        "--gutenberg-backoff-seconds",
        "0.05",
        "--storage-root",
        str(root),
        *extra,
    ]


def served_by(root: Path, book_id: int) -> tuple[str, str]:
    record = json.loads((root / "raw" / str(book_id) / "download.json").read_text())
    return record["mirror"], record["url"]


def report_csv(root: Path, n_books: int) -> str:
    [csv] = root.glob(f"top_words/*/yesterday/{DATE}/books-{n_books}/top-50_stop-english.csv")
    return csv.read_text(encoding="utf-8")


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def test_top_page_from_the_site_books_from_two_mirrors_of_each_layout(tmp_path: Path) -> None:
    ids = top_ids(10)
    lost = ids[0]  # not on the epub mirror, which this book asks first
    suffixes = {ids[1]: "-8", ids[3]: ""}
    root = tmp_path / "data"
    with (
        MirrorServer(mirror_dir()) as top,
        MirrorServer(epub_tree(tmp_path / "epub", [i for i in ids if i != lost])) as epub,
        MirrorServer(numbered_tree(tmp_path / "numbered", ids, suffixes)) as numbered,
    ):
        # Each book takes at least HOLD seconds to serve, so that requests in flight can be seen.
        for server in (epub, numbered):
            for path in served_paths(server.root):
                server.overrides[path] = server.file_reply(path, delay=HOLD)
        mirrors = f"{epub.url}, {numbered.url}"  # no layouts named: each mirror is asked once
        args = mirror_args(top, mirrors, root, "--workers", "2")
        result = run_luigi("TopWordsSpark", *args, cwd=REPO)
        assert result.returncode == 0, result.stderr[-3000:]
        again = run_luigi("TopWordsSpark", *args, cwd=REPO)
        assert again.returncode == 0, again.stderr[-3000:]

    assert report_csv(root, 10) == expected_top_words_csv(ids, 50, "english")
    # The site was asked for the top page once, over both runs; every book went to a mirror.
    assert top.requests == [TOP]
    # The books take turns at the first mirror: even places ask the epub mirror first, odd the numbered.
    first_epub, first_numbered = ids[0::2], ids[1::2]
    assert epub.requests[0] == "HEAD /cache/epub/"
    assert sorted(epub.requests[1:]) == sorted(epub_path(i) for i in first_epub)
    assert numbered.requests[0] == "HEAD /cache/epub/"
    expected = [p for i in [*first_numbered, lost] for p in numbered_tries(i, suffixes.get(i, "-0"))]
    assert sorted(numbered.requests[1:]) == sorted(expected)
    for book_id in ids:
        mirror, url = served_by(root, book_id)
        host = numbered if book_id in first_numbered or book_id == lost else epub
        assert mirror == host.url
        assert url == host.url + (
            epub_path(book_id) if host is epub else numbered_tries(book_id, suffixes.get(book_id, "-0"))[-1]
        )
        assert (root / "raw" / str(book_id) / f"pg{book_id}.txt").read_bytes() == shared_book(
            book_id
        ).read_bytes()
    # Two workers: the mirrors served at the same time, each host one request at a time (a Luigi
    # resource per host; no book of this run fails over to the epub mirror).
    epub_gets = [t for t, path in zip(epub.request_times, epub.requests, strict=True) if path[0] == "/"]
    numbered_gets = [
        t for t, path in zip(numbered.request_times, numbered.requests, strict=True) if path[0] == "/"
    ]
    assert any(abs(e - n) < HOLD for e in epub_gets for n in numbered_gets)
    assert all(later - earlier >= HOLD for earlier, later in itertools.pairwise(epub_gets))
    # The report's book table names the mirror of each book.
    page = next(root.glob(f"top_words/spark/yesterday/{DATE}/books-10/*.html")).read_text()
    assert page.count(f"<td>127.0.0.1:{numbered.port}</td>") == len(first_numbered) + 1
    assert page.count(f"<td>127.0.0.1:{epub.port}</td>") == len(first_epub) - 1


def test_a_mirror_that_dies_mid_run_is_skipped_with_one_warning(tmp_path: Path) -> None:
    ids = top_ids(10)
    root = tmp_path / "data"
    with (
        MirrorServer(mirror_dir()) as top,
        MirrorServer(epub_tree(tmp_path / "epub", ids)) as first,
        MirrorServer(numbered_tree(tmp_path / "numbered", ids)) as second,
    ):
        first.answer_only(3)
        mirrors = f"{first.url} epub, {second.url} numbered"
        result = run_luigi("TopWordsMR", "--runner", "inline", *mirror_args(top, mirrors, root), cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert report_csv(root, 10) == expected_top_words_csv(ids, 50, "english")

    answered = {int(path.split("/")[3]) for path in first.requests[:3]}
    [dying] = set(first.requests[3:])
    assert first.requests[3:] == [dying] * 3  # its retries, then never again
    assert lines_with(result.stderr, "skipped for the rest of this run") == [
        f"WARNING: mirror {first.url} skipped for the rest of this run: {first.url}{dying}: connection reset "
        "(gave up after 3 attempts)"
    ]
    assert {i for i in ids if served_by(root, i)[0] == first.url} == answered
    assert sorted(second.requests) == sorted(numbered_tries(i, "-0")[0] for i in ids if i not in answered)
    assert top.requests == [TOP]


def test_every_mirror_down_fails_the_rest_and_a_rerun_fetches_only_them(tmp_path: Path) -> None:
    ids = top_ids(6)
    root = tmp_path / "data"
    with MirrorServer(tmp_path) as gone:
        down_port = gone.port  # free again once the server is closed: connection refused
    down = f"http://127.0.0.1:{down_port}"
    with MirrorServer(mirror_dir()) as top, MirrorServer(epub_tree(tmp_path / "epub", ids)) as first:
        first.answer_only(3)
        mirrors = f"{first.url} epub, {down} numbered"
        args = ["TopWordsMR", "--runner", "inline", "--n-books", "6", *mirror_args(top, mirrors, root)]
        result = run_luigi(*args, cwd=REPO)

        assert result.returncode == 30, result.stderr[-3000:]
        fetched = {int(path.split("/")[3]) for path in first.requests[:3]}
        failed = [i for i in ids if i not in fetched]
        errors = [
            line
            for line in result.stderr.splitlines()
            if line.startswith("ERROR: ") and "ERROR: [" not in line
        ]
        pattern = re.compile(
            r"ERROR: DownloadBook\(book_id=(\d+)\): book (\d+): no mirror could serve it: (.*)"
        )
        assert sorted(int(pattern.fullmatch(line).group(1)) for line in errors) == sorted(failed)
        for line in errors:
            match = pattern.fullmatch(line)
            assert match.group(1) == match.group(2)
            assert first.url in match.group(3) and down in match.group(3)
        skips = lines_with(result.stderr, "skipped for the rest of this run")
        assert len(skips) == 2
        assert any(line.startswith(f"WARNING: mirror {first.url} skipped") for line in skips)
        assert any(
            line.startswith(f"WARNING: mirror {down} skipped")
            and "connection refused (gave up after 3" in line
            for line in skips
        )
        # Nothing that failed looks done: no text, no record, no "missing", no corpus.
        for book_id in failed:
            assert not (root / "raw" / str(book_id)).exists()
        assert not list(root.glob("raw/*/missing.json"))
        assert not (root / "corpus").exists()
        for book_id in fetched:
            assert served_by(root, book_id)[0] == first.url

        with MirrorServer(numbered_tree(tmp_path / "numbered", ids), port=down_port) as back:
            asked_before = len(first.requests)
            rerun = run_luigi(*args, cwd=REPO)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert report_csv(root, 6) == expected_top_words_csv(ids, 50, "english")
    assert sorted(back.requests) == sorted(numbered_tries(i, "-0")[0] for i in failed)
    assert {int(path.split("/")[3]) for path in first.requests[asked_before:]} <= set(failed)
    assert top.requests == [TOP]


def test_a_redirect_to_an_unlisted_host_is_refused_before_it_sees_a_request(tmp_path: Path) -> None:
    root = tmp_path / "data"
    with (
        MirrorServer(mirror_dir()) as top,
        MirrorServer(mirror_dir()) as elsewhere,
        MirrorServer(mirror_dir()) as first,
        MirrorServer(numbered_tree(tmp_path / "numbered", [84])) as second,
    ):
        first.overrides[epub_path(84)] = Reply.redirect(f"{elsewhere.url}{epub_path(84)}")
        mirrors = f"{first.url} epub, {second.url} numbered"
        result = run_luigi(
            "DownloadBook", "--book-id", "84", *mirror_args(top, mirrors, root, dated=False), cwd=REPO
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert elsewhere.requests == []
    hosts = ", ".join(sorted(f"127.0.0.1:{s.port}" for s in (top, first, second)))
    assert lines_with(result.stderr, "skipped for the rest of this run") == [
        f"WARNING: mirror {first.url} skipped for the rest of this run: {first.url}{epub_path(84)}: "
        f"redirect to {elsewhere.url}{epub_path(84)}: refused: host 127.0.0.1:{elsewhere.port} is not a "
        f"Gutenberg host ({hosts}) (nor in [gutenberg] allowed_hosts)"
    ]
    assert first.requests == [epub_path(84)]
    assert second.requests == [numbered_tries(84, "-0")[0]]
    assert served_by(root, 84) == (second.url, second.url + numbered_tries(84, "-0")[0])
    assert (root / "raw" / "84" / "pg84.txt").read_bytes() == shared_book(84).read_bytes()


def test_a_mirror_failing_the_layout_question_is_skipped_and_the_next_serves(tmp_path: Path) -> None:
    root = tmp_path / "data"
    with (
        MirrorServer(mirror_dir()) as top,
        MirrorServer(mirror_dir()) as first,
        MirrorServer(numbered_tree(tmp_path / "numbered", [84])) as second,
    ):
        first.overrides["HEAD /cache/epub/"] = Reply(503)
        mirrors = f"{first.url}, {second.url} numbered"
        result = run_luigi(
            "DownloadBook", "--book-id", "84", *mirror_args(top, mirrors, root, dated=False), cwd=REPO
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert first.requests == ["HEAD /cache/epub/"] * 3
    assert lines_with(result.stderr, "skipped for the rest of this run") == [
        f"WARNING: mirror {first.url} skipped for the rest of this run: {first.url}/cache/epub/: HTTP 503 "
        "(gave up after 3 attempts)"
    ]
    assert served_by(root, 84) == (second.url, second.url + numbered_tries(84, "-0")[0])


def test_a_bad_mirror_entry_is_one_error_line_and_no_request(tmp_path: Path) -> None:
    root = tmp_path / "data"
    mirrors = "http://127.0.0.1:9 epub, ftp://m.example"
    cause = "[gutenberg] mirrors: 'ftp://m.example': not an http(s) URL"
    with MirrorServer(mirror_dir()) as top:
        alone = run_luigi(
            "DownloadBook", "--book-id", "84", *mirror_args(top, mirrors, root, dated=False), cwd=REPO
        )
        corpus = run_luigi("CorpusParquet", *mirror_args(top, mirrors, root), cwd=REPO)
    assert (alone.returncode, corpus.returncode) == (30, 30), alone.stderr[-2000:] + corpus.stderr[-2000:]
    assert error_lines(alone.stderr) == [f"ERROR: DownloadBook(book_id=84): {cause}"]
    # The first task that talks to Gutenberg stops: its client is made with every listed host.
    assert error_lines(corpus.stderr) == [f"ERROR: TopBooks(date={DATE}, period=yesterday): {cause}"]
    assert top.requests == []
    assert not (root / "raw").exists()
