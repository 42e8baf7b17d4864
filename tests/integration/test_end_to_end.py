"""The README's main command through the real `luigi` executable against the mirror on loopback."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from jobs import textrules
from tests.support import REPO, MirrorServer, Reply, mirror_body, mirror_dir, offline_args, run_luigi

pytestmark = pytest.mark.spark


def top_page() -> str:
    """The mirror's top page, read when a test runs."""
    return (mirror_dir() / "browse" / "scores" / "top").read_text(encoding="utf-8")


def listed_ids(page: str) -> list[int]:
    """Book ids of the yesterday list, read with a plain regex (independent of the pipeline's parser)."""
    section = page.split('id="books-last1"', 1)[1].split("</ol>", 1)[0]
    return [int(i) for i in re.findall(r'href="/ebooks/(\d+)"', section)]


def expected_csv(book_ids: list[int], n_words: int, stopwords: frozenset[str]) -> str:
    """The report computed here, from the raw mirror files and the pure-Python text rules."""
    bodies = [mirror_body(i) for i in book_ids]
    counts = textrules.count_words(bodies)
    ranked = sorted(((w, c) for w, c in counts.items() if w not in stopwords), key=lambda wc: (-wc[1], wc[0]))
    if n_words:
        ranked = ranked[:n_words]
    out = io.StringIO()
    out.write("rank,word,count\n")
    for rank, (word, count) in enumerate(ranked, start=1):
        out.write(f"{rank},{word},{count}\n")
    return out.getvalue()


def common_args(server: MirrorServer, root: Path, spark_submit: Path) -> list[str]:
    return [*offline_args(server.url, root, date=None), "--spark-spark-submit", str(spark_submit)]


@pytest.mark.every_python
def test_main_command_then_noop_rerun(mirror: MirrorServer, tmp_path: Path, spark_submit_log) -> None:
    wrapper, log = spark_submit_log
    root = tmp_path / "data"
    args = ["TopWordsSpark", *common_args(mirror, root, wrapper)]

    first = run_luigi(*args, cwd=REPO, merged=True)
    assert first.returncode == 0, first.stdout[-3000:]
    assert_console_reads_cleanly(first.stdout)

    ids = listed_ids(top_page())[:10]
    assert ids == [1342, 1232, 11, 76, 2591, 5200, 74, 844, 84, 1952]
    report = next((root / "top_words" / "spark" / "yesterday").glob("*/books-10/top-50_stop-english.csv"))
    expected = expected_csv(ids, 50, textrules.load_stopwords("english"))
    assert report.read_text(encoding="utf-8") == expected
    assert sorted(mirror.requests) == sorted(
        ["/browse/scores/top"] + [f"/cache/epub/{i}/pg{i}.txt" for i in ids]
    )
    assert len(log.read_text().splitlines()) == 1

    payload = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
    top = next(csv.DictReader(io.StringIO(expected)))
    assert payload["words"][0] == {"rank": 1, "word": top["word"], "count": int(top["count"])}
    assert [b["book_id"] for b in payload["books"]] == ids
    assert payload["skipped"] == []
    assert report.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"   1  {top['word']}" in first.stdout

    mirror.requests.clear()
    second = run_luigi(*args, cwd=REPO)
    assert second.returncode == 0, second.stderr[-3000:]
    assert mirror.requests == []
    assert len(log.read_text().splitlines()) == 1
    assert f"   1  {top['word']}" in second.stdout
    assert "1 complete ones were encountered" in second.stderr


# What a default run may print before the top-words table, on a pipe: nothing else.
CONSOLE_LINES = {
    "book": re.compile(
        r"INFO: book (\d+) \((\d+) of 10\): [\d,]+ bytes in [\d.]+ s \([\d.]+ [kMG]?B/s\) from http://\S+"
    ),
    # With a JDK here, the job counts with the JVM tokenizer from its jar.
    "command": re.compile(
        r"INFO: Running command: \S+/spark-submit\S* --master local\[\*\] .* "
        r"--jars \S+/jobs-[0-9a-f]{16}\.jar .* --analysis --tokenizer=jvm"
    ),
    "ui": re.compile(r"INFO: WordCountSpark: Spark UI at http://\S+"),
    "progress": re.compile(r"INFO: WordCountSpark: (\d+)% (step [1-4]/4 .*: \d+/\d+ tasks|done)"),
    "blank": re.compile(r""),
}
CONSOLE_NOISE = ("DEBUG", "boto3", "Loading S3", "Loading GC", "UnconsumedParameterWarning", "Traceback")


def assert_console_reads_cleanly(output: str) -> None:
    """At most 40 lines before our table, each a book line, Spark's progress or the submit command; no
    DEBUG line or import warning anywhere; Luigi's execution summary at the end."""
    lines = output.splitlines()
    table = next(
        i for i, line in enumerate(lines) if line.startswith("Top 50 words (spark; stop words: english)")
    )
    assert table <= 40, "\n".join(lines[:table])
    kinds = []
    for line in lines[:table]:
        kind = next((k for k, pattern in CONSOLE_LINES.items() if pattern.fullmatch(line)), None)
        assert kind is not None, f"unexpected console line: {line!r}"
        kinds.append(kind)
    books = [CONSOLE_LINES["book"].fullmatch(line) for line in lines[:table] if line.startswith("INFO: book")]
    assert [int(m.group(2)) for m in books] == list(range(1, 11))
    assert kinds.count("command") == 1 and kinds.count("ui") == 1
    percents = [
        int(CONSOLE_LINES["progress"].fullmatch(line).group(1)) for line in lines[:table] if "%" in line
    ]
    assert percents == sorted(percents) and percents[-1] == 100
    assert not [line for line in lines if any(noise in line for noise in CONSOLE_NOISE)]
    assert "===== Luigi Execution Summary =====" in "\n".join(lines[table:])


def test_luigis_scheduling_lines_only_with_log_level_debug(mirror: MirrorServer, tmp_path: Path) -> None:
    args = ["TopBooks", *offline_args(mirror.url, tmp_path / "data")]
    quiet = run_luigi(*args, cwd=REPO, merged=True)
    assert quiet.returncode == 0, quiet.stdout[-3000:]
    assert [line for line in quiet.stdout.splitlines() if line.startswith("INFO: ")] == [
        "INFO: ",  # Luigi's summary begins with a newline
    ]
    assert "* 1 ran successfully:" in quiet.stdout
    again = ["TopBooks", *offline_args(mirror.url, tmp_path / "again"), "--log-level", "DEBUG"]
    verbose = run_luigi(*again, cwd=REPO, merged=True)
    assert verbose.returncode == 0, verbose.stdout[-3000:]
    assert "DEBUG: Checking if TopBooks(date=2026-11-20, period=yesterday) is complete" in verbose.stdout
    assert "INFO: Informed scheduler that task   TopBooks_2026_11_20_yesterday_" in verbose.stdout


def test_missing_book_is_replaced_by_the_next_ranked(
    mirror: MirrorServer, tmp_path: Path, spark_submit_log
) -> None:
    wrapper, _ = spark_submit_log
    page = top_page()
    ghost = '<li><a href="/ebooks/999999">A Lost Book by Nobody (1000)</a></li>\n'
    mirror.overrides["/browse/scores/top"] = Reply(200, page.replace("<ol>\n", "<ol>\n" + ghost, 1).encode())
    root = tmp_path / "data"

    result = run_luigi(
        "TopWordsSpark",
        "--n-books",
        "3",
        "--n-words",
        "0",
        "--stopwords",
        "none",
        *common_args(mirror, root, wrapper),
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ghost_urls = ["/cache/epub/999999/pg999999.txt", "/files/999999/999999-0.txt", "/files/999999/999999.txt"]
    assert [r for r in mirror.requests if "999999" in r] == ghost_urls
    report = next(root.glob("top_words/spark/yesterday/*/books-3/top-0_stop-none.csv"))
    assert report.read_text(encoding="utf-8") == expected_csv([1342, 1232, 11], 0, frozenset())
    payload = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
    assert [b["book_id"] for b in payload["books"]] == [1342, 1232, 11]
    assert payload["skipped"] == [
        {"rank": 1, "book_id": 999999, "title": "A Lost Book", "author": "Nobody", "downloads": 1000}
    ]
    assert "books skipped: 999999 (A Lost Book)" in result.stdout
    assert json.loads((root / "raw" / "999999" / "missing.json").read_text())["tried"] == [
        mirror.url + u for u in ghost_urls
    ]


def test_server_down_exits_non_zero_with_one_line_cause(tmp_path: Path) -> None:
    with MirrorServer(tmp_path) as server:
        url = server.url  # the port is free again once the server is closed
    result = run_luigi(
        "TopWordsSpark",
        "--local-scheduler",
        "--date",
        "2026-11-20",
        "--gutenberg-base-url",
        url,
        "--gutenberg-max-attempts",
        "2",
        "--gutenberg-backoff-seconds",
        "0.05",
        "--storage-root",
        str(tmp_path / "data"),
        cwd=REPO,
    )
    assert result.returncode == 30
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: TopBooks(")]
    assert errors == [
        f"ERROR: TopBooks(date=2026-11-20, period=yesterday): {url}/browse/scores/top: "
        "connection refused (gave up after 2 attempts)"
    ]
    assert not (tmp_path / "data" / "top_books").exists()
