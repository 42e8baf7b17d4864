"""Bad input: broken books kept per the text rules or skipped and replaced; bad parameters in one line.

Every fixture is written here (never copied from the mirror) and served by the loopback MirrorServer.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from jobs import textrules
from jobs.textrules import binary_reason, no_words_reason, read_book, tokenize
from tests.conftest import REPO, MirrorServer, Reply, offline_args, run_luigi


def book(body: bytes, name: bytes = b"TEST") -> bytes:
    """A Gutenberg-style file around `body`: header, start marker, body, end marker, license."""
    return (
        b"The Project Gutenberg eBook of " + name + b"\n\nTitle: " + name + b"\nLanguage: English\n\n"
        b"*** START OF THE PROJECT GUTENBERG EBOOK " + name + b" ***\n" + body + b"\n"
        b"*** END OF THE PROJECT GUTENBERG EBOOK " + name + b" ***\nSome license words.\n"
    )


EMPTY = book(b"\n\n   \n")
BINARY = random.Random(2026).randbytes(20_000)
NUL = book(b"The cat\x00sat on the mat.")
LONG_LINE = book(b"word " * 10_000_000)  # one 50,000,000-byte line
MIXED = book("Café naïve ".encode() + b"\x93quoted\x94 caf\xe9")  # UTF-8 with cp1252 bytes: invalid UTF-8
DIGITS = book(b"3.14159 26535 89793 23846\n" * 1000)
PLAIN = book(b"It was the best of times,\nit was the worst of times.")


def control_count(data: bytes) -> int:
    """Control bytes counted one by one (the rule: C0 except TAB LF VT FF CR SUB, and DEL)."""
    return sum(1 for b in data if b <= 0x08 or 0x0E <= b <= 0x19 or 0x1B <= b <= 0x1F or b == 0x7F)


# --- the text rules on each fixture -------------------------------------------------------------------


def test_empty_after_stripping_has_no_words() -> None:
    parsed = read_book(EMPTY)
    assert (parsed.body, parsed.body_lines, parsed.encoding) == ("\n\n   \n", 4, "utf-8")
    assert list(tokenize(parsed.body)) == []
    assert binary_reason(EMPTY) is None
    assert no_words_reason(parsed) == "no words: empty after stripping the Gutenberg header and footer"


def test_binary_garbage_is_detected_by_its_control_bytes() -> None:
    count = control_count(BINARY)
    assert count == textrules.control_bytes(BINARY)
    assert 0.09 < count / len(BINARY) < 0.12  # random bytes: 27 in 256
    assert binary_reason(BINARY) == (
        f"binary: {count} of 20000 bytes ({100 * count / 20000:.1f}%) are control bytes"
    )


def test_one_nul_byte_is_text_and_separates_words() -> None:
    assert control_count(NUL) == 1
    assert binary_reason(NUL) is None
    parsed = read_book(NUL)
    assert (parsed.body, parsed.encoding) == ("The cat\x00sat on the mat.", "utf-8")
    assert list(tokenize(parsed.body)) == ["the", "cat", "sat", "on", "the", "mat"]
    assert no_words_reason(parsed) is None


def test_control_share_threshold() -> None:
    assert binary_reason(b"a" * 95 + b"\x00" * 5) is None  # 5%: still text
    assert binary_reason(b"a" * 94 + b"\x00" * 6) == "binary: 6 of 100 bytes (6.0%) are control bytes"
    assert binary_reason(b"\t\n\x0b\x0c\r\x1a" * 10) is None  # whitespace and Ctrl-Z are not controls here
    assert (
        binary_reason("utf-16 text".encode("utf-16-le")) == "binary: 11 of 22 bytes (50.0%) are control bytes"
    )
    assert binary_reason(b"") is None


def test_fifty_megabyte_single_line() -> None:
    assert binary_reason(LONG_LINE) is None
    parsed = read_book(LONG_LINE)
    assert parsed.body == "word " * 10_000_000
    assert (len(parsed.body), parsed.body_lines, parsed.start_marker, parsed.end_marker) == (
        50_000_000,
        1,
        True,
        True,
    )
    assert Counter(tokenize(parsed.body)) == {"word": 10_000_000}


def test_mixed_utf8_and_cp1252_decodes_whole_file_as_cp1252() -> None:
    parsed = read_book(MIXED)
    assert parsed.encoding == "cp1252"
    assert parsed.body == "CafÃ© naÃ¯ve “quoted” café"
    assert list(tokenize(parsed.body)) == ["cafã", "naã", "ve", "quoted", "café"]


def test_all_digits_has_no_words() -> None:
    parsed = read_book(DIGITS)
    assert (len(parsed.body), parsed.body_lines) == (26_000, 1001)
    assert list(tokenize(parsed.body)) == []
    assert no_words_reason(parsed) == "no words: none in 26000 body characters"


# --- the pipeline on them ------------------------------------------------------------------------------

FIXTURES = {
    900001: ("Empty Book", EMPTY),
    900002: ("Binary Book", BINARY),
    900003: ("Nul Book", NUL),
    900004: ("Long Line Book", LONG_LINE),
    900005: ("Mixed Book", MIXED),
    900006: ("Digits Book", DIGITS),
    900007: ("Plain Book", PLAIN),
    900008: ("Never Needed", PLAIN),
}


def top_page(ids: list[int]) -> bytes:
    items = "".join(
        f'<li><a href="/ebooks/{i}">{FIXTURES[i][0]} by Author {i} ({1000 - n})</a></li>\n'
        for n, i in enumerate(ids)
    )
    page = f'<html><body>\n<h2 id="books-last1">Top yesterday</h2>\n<ol>\n{items}</ol>\n</body></html>\n'
    return page.encode()


def test_bad_books_are_kept_or_skipped_and_replaced(http_server: MirrorServer, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    ids = sorted(FIXTURES)
    http_server.overrides["/browse/scores/top"] = Reply(200, top_page(ids))
    for i, (_, data) in FIXTURES.items():
        http_server.overrides[f"/cache/epub/{i}/pg{i}.txt"] = Reply(200, data)
    root = tmp_path / "data"
    result = run_luigi(
        "CorpusParquet",
        *offline_args(http_server.url, root, 4),
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # Batches of what is still missing: 4 (two usable), 2 (one), 1 (one); 900008 is never fetched.
    assert http_server.requests == ["/browse/scores/top"] + [f"/cache/epub/{i}/pg{i}.txt" for i in ids[:7]]

    corpus = root / "corpus" / "yesterday" / "2026-11-20" / "books-4"
    rows = pq.read_table(corpus).to_pylist()
    facts = [
        (r["book_id"], r["rank"], r["encoding"], r["body_chars"], r["body_lines"], r["raw_bytes"])
        for r in rows
    ]
    assert facts == [
        (900003, 3, "utf-8", 23, 1, len(NUL)),
        (900004, 4, "utf-8", 50_000_000, 1, len(LONG_LINE)),
        (900005, 5, "cp1252", 26, 1, len(MIXED)),
        (900007, 7, "utf-8", 52, 2, len(PLAIN)),
    ]
    assert [r["text"] for r in rows] == [
        read_book(FIXTURES[i][1]).body for i in (900003, 900004, 900005, 900007)
    ]
    assert rows[0]["text"] == "The cat\x00sat on the mat."

    manifest = json.loads((corpus / "_books.json").read_text(encoding="utf-8"))
    assert [b["book_id"] for b in manifest["books"]] == [900003, 900004, 900005, 900007]
    n = control_count(BINARY)
    assert manifest["skipped"] == [
        {
            "rank": 1,
            "book_id": 900001,
            "title": "Empty Book",
            "author": "Author 900001",
            "downloads": 1000,
            "reason": "no words: empty after stripping the Gutenberg header and footer",
        },
        {
            "rank": 2,
            "book_id": 900002,
            "title": "Binary Book",
            "author": "Author 900002",
            "downloads": 999,
            "reason": f"binary: {n} of 20000 bytes ({n / 200:.1f}%) are control bytes",
        },
        {
            "rank": 6,
            "book_id": 900006,
            "title": "Digits Book",
            "author": "Author 900006",
            "downloads": 995,
            "reason": "no words: none in 26000 body characters",
        },
    ]
    warnings = [line for line in result.stderr.splitlines() if "; skipped" in line]
    assert warnings == [
        f"WARNING: book {entry['book_id']} (rank {entry['rank']}): {entry['reason']}; skipped"
        for entry in manifest["skipped"]
    ]


def test_too_few_usable_books_fails_with_one_line(http_server: MirrorServer, tmp_path: Path) -> None:
    http_server.overrides["/browse/scores/top"] = Reply(200, top_page([900001, 900002, 900007]))
    for i in (900001, 900002, 900007):
        http_server.overrides[f"/cache/epub/{i}/pg{i}.txt"] = Reply(200, FIXTURES[i][1])
    result = run_luigi(
        "CorpusParquet",
        *offline_args(http_server.url, tmp_path / "data", 2),
        cwd=REPO,
    )
    assert result.returncode == 30
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: CorpusParquet(")]
    assert errors == [
        "ERROR: CorpusParquet(date=2026-11-20, period=yesterday, n_books=2): "
        f"{http_server.url}/browse/scores/top: only 1 of the 2 books asked for are usable "
        "(3 listed for yesterday, 2 skipped)"
    ]
    assert not (tmp_path / "data" / "corpus").exists()


# --- parameters out of range ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["CorpusParquet", "--n-books", "0"], "ERROR: --n-books: 0 is not in [1, 1000000000]"),
        (["CorpusParquet", "--n-books", "-5"], "ERROR: --n-books: -5 is not in [1, 1000000000]"),
        (["CorpusParquet", "--n-books", "ten"], "ERROR: --n-books: 'ten' is not an integer"),
        (["TopWordsSpark", "--n-words", "-1"], "ERROR: --n-words: -1 is not in [0, 1000000000]"),
        (
            ["TopWordsMR", "--period", "weekly"],
            "ERROR: --period: 'weekly' is not one of yesterday, last7, last30",
        ),
        (["TopBooks", "--date", "2026-02-30"], "ERROR: --date: '2026-02-30' is not a date (YYYY-MM-DD)"),
        (["DownloadBook", "--book-id", "../x"], "ERROR: --book-id: '../x' is not an integer"),
        (["DownloadBook", "--book-id", "0"], "ERROR: --book-id: 0 is not in [1, 1000000000]"),
    ],
)
def test_bad_parameter_is_one_line_and_nothing_runs(
    http_server: MirrorServer, tmp_path: Path, args: list[str], error: str
) -> None:
    result = run_luigi(
        *args, "--local-scheduler", "--gutenberg-base-url", http_server.url, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 40, result.stderr[-3000:]
    assert [line for line in result.stderr.splitlines() if "ERROR" in line or "rror" in line] == [error]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()
    assert http_server.requests == []


def test_missing_stopword_file_is_one_line_and_nothing_runs(
    http_server: MirrorServer, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-stopwords.txt"
    result = run_luigi(
        "TopWordsSpark",
        "--local-scheduler",
        "--stopwords",
        str(missing),
        "--gutenberg-base-url",
        http_server.url,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 35, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    assert [line for line in lines if "ERROR" in line or "No such file" in line] == [
        f"ERROR: --stopwords: stop-word file {missing}: No such file or directory"
    ]
    assert "Traceback" not in result.stderr
    assert "Did not run any tasks" in result.stderr
    assert not (tmp_path / "data").exists()
    assert http_server.requests == []
