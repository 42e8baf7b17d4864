"""Bad input through the `luigi` command: broken books kept per the text rules or skipped and replaced; bad
parameters in one line.

The books are tests/bad_books.py (written there, never copied from the mirror), served by the loopback
MirrorServer; the text rules on them alone are tests/unit/test_textrules_bad_books.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobs.textrules import read_book
from tests.bad_books import BINARY, DIGITS, EMPTY, LONG_LINE, MIXED, NUL, PLAIN, control_count
from tests.support import REPO, MirrorServer, Reply, offline_args, run_luigi

# --- the pipeline on the bad books -------------------------------------------------------------------------

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
