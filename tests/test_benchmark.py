"""The benchmark harness (benchmarks/bench.py and its modules): its parts, and the --quick run CI does."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobs import textrules
from pipeline import gutenberg as gb
from tests.conftest import MIRROR, REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import corpora
import measure
import report

TOOLS = [
    "spark", "spark-canonical", "mrjob-inline", "mrjob-local", "freq-inline", "freq-local", "hadoop",
    "tr-sort-uniq", "python-counter", "duckdb",
]  # fmt: skip


def test_peak_rss_counts_the_whole_process_tree() -> None:
    # A child starts a grandchild that holds 300 MiB; the child itself stays small.
    grandchild = "b = bytearray(300 * 1024 * 1024); import time; time.sleep(1.5)"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}], check=True)"
    measured = measure.measure([sys.executable, "-c", child], interval=0.05)
    assert measured.returncode == 0
    assert 300 <= measured.peak_rss_mib < 400
    assert 1.5 <= measured.wall_s < 10


def test_repeated_mirror_serves_the_shared_books_under_new_ids() -> None:
    books = corpora.mirror_books(MIRROR)
    assert len(books) == 23
    body = textrules.read_book((MIRROR / "cache/epub/1342/pg1342.txt").read_bytes()).body
    assert books[0].book_id == 1342 and books[0].body_bytes == len(body.encode())
    n = corpora.books_for(3, books)
    assert sum(b.body_bytes for b in books[: n - 1]) < 3 * measure.MIB <= sum(b.body_bytes for b in books[:n])
    resolve = corpora.repeated_mirror(30, books)
    listed = gb.parse_top_page(resolve("/browse/scores/top").decode(), "yesterday")
    assert [b.book_id for b in listed] == list(range(corpora.FIRST_ID, corpora.FIRST_ID + 30))
    assert listed[23].title == f"{books[0].title} (copy 2)" and listed[23].author == books[0].author
    assert resolve(f"/cache/epub/{corpora.FIRST_ID + 24}/pg{corpora.FIRST_ID + 24}.txt") == books[1].data
    assert resolve(f"/cache/epub/{corpora.FIRST_ID + 30}/pg{corpora.FIRST_ID + 30}.txt") is None
    assert resolve("/cache/epub/1342/pg1342.txt") is None


def test_static_mirror_stays_inside_the_mirror() -> None:
    resolve = corpora.static_mirror(MIRROR)
    assert resolve("/cache/epub/11/pg11.txt") == (MIRROR / "cache/epub/11/pg11.txt").read_bytes()
    assert resolve("/../../../etc/passwd") is None
    assert resolve("/cache/epub/11") is None


def test_targets_are_ratios_of_the_same_run() -> None:
    def run(tool: str, size: float, wall: float, rate: float = 0, rss: float = 100) -> measure.Run:
        return measure.Run(tool, size, size, wall, rate, rss)

    runs = [
        run("spark-trivial", 0, 10.0), run("main-cold", 0, 14.0), run("main-noop", 0, 3.5),
        run("spark", 256, 20.0, 12.8), run("spark", 1024, 80.0, 12.8, 2500),
        run("tr-sort-uniq", 1024, 100.0, 10.24), run("spark-canonical", 1024, 500.0, 2.048),
        run("duckdb", 1024, 40.0, 25.6), run("freq-inline", 64, 128.0, 0.5),
        run("mrjob-inline", 64, 16.0, 4.0), run("freq-local", 64, 100.0, 0.64),
        run("mrjob-local", 64, 25.0, 2.56),
        run("mrjob-local", 1024, 200.0, 5.12, 900), run("hadoop", 1024, 210.0, 4.88, 1100),
    ]  # fmt: skip
    measured = {t["target"]: (t["measured"], t["met"]) for t in report.targets(runs)}
    assert measured == {
        "1. Spark vs tr|sort|uniq at 1024 MiB (throughput)": (1.25, True),
        "1. Spark vs canonical example at 1024 MiB": (6.25, True),
        "1. stretch: Spark vs DuckDB at 1024 MiB": (0.5, False),
        "2. Spark time 256 -> 1024 MiB": (4.0, True),
        "3. our mrjob vs mr_word_freq_count, inline, 64 MiB": (8.0, True),
        "3. our mrjob vs mr_word_freq_count, local, 64 MiB": (4.0, False),
        "3. Hadoop engine vs our mrjob -r local at 1024 MiB": (0.95, False),
        "4. main command cold vs trivial spark-submit (time)": (1.4, True),
        "4. no-op rerun (seconds)": (3.5, False),
        "5. peak RSS of mrjob-inline at 1024 MiB (MiB)": (None, None),
        "5. peak RSS of mrjob-local at 1024 MiB (MiB)": (900, True),
        "5. peak RSS of hadoop at 1024 MiB (MiB)": (1100, False),
        "5. peak RSS of spark at 1024 MiB (MiB)": (2500, True),
    }


@pytest.mark.spark
def test_quick_run(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--quick", "--root", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((tmp_path / "quick" / "results.json").read_text())
    runs = {(r["tool"], r["size_mib"]): r for r in results["runs"]}
    assert sorted(runs) == sorted(
        [(t, 3) for t in TOOLS] + [(t, 0) for t in ("spark-trivial", "main-cold", "main-noop")]
    )

    # The corpus, counted here independently of every tool.
    corpus = tmp_path / "store" / "corpus" / "yesterday" / corpora.BENCH_DATE.isoformat()
    (books_dir,) = corpus.iterdir()
    texts = pq.read_table(books_dir, columns=["text"]).column("text").to_pylist()
    expected = textrules.count_words(texts)
    exact_mib = sum(len(t.encode()) for t in texts) / measure.MIB
    body_mib = round(exact_mib, 1)
    for tool in TOOLS:
        run = runs[(tool, 3)]
        assert run["body_mib"] == body_mib
        # Reported to 2 decimals, from a wall time reported to 0.01 s.
        rate = exact_mib / run["wall_s"]
        assert abs(run["mib_per_s"] - rate) <= 0.005 + rate * 0.01 / run["wall_s"]
        assert run["peak_rss_mib"] > 0
    for tool in ("spark", "mrjob-inline", "mrjob-local", "hadoop", "python-counter"):
        assert runs[(tool, 3)]["distinct_words"] == len(expected)
        assert runs[(tool, 3)]["same_as_ours"] is True
    # tr -cs "A-Za-z'" '\n' | tr A-Z a-z over the text parts: ASCII letter-and-apostrophe runs, lowercased.
    text_dir = (
        tmp_path / "store" / "corpus_text" / "yesterday" / corpora.BENCH_DATE.isoformat() / books_dir.name
    )
    data = b"".join(p.read_bytes() for p in sorted(text_dir.glob("part-*.txt")))
    assert runs[("tr-sort-uniq", 3)]["distinct_words"] == len(Counter(re.findall(rb"[a-z']+", data.lower())))
    assert runs[("tr-sort-uniq", 3)]["same_as_ours"] is False
    assert runs[("spark", 3)]["jvm_free_s"] < runs[("spark", 3)]["wall_s"]
    assert runs[("main-noop", 0)]["wall_s"] < runs[("main-cold", 0)]["wall_s"]

    markdown = (tmp_path / "quick" / "results.md").read_text()
    assert f"| {body_mib:.0f} MiB | our Spark job (spark-submit, local[2]) | ours |" in markdown
    assert "| README main command, no-op rerun |" in markdown
    assert len([t for t in results["targets"] if t["measured"] is not None]) == 12  # no scaling row: one size
    assert (tmp_path / "quick" / "throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
