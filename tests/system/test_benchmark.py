"""The benchmark harness end to end: `benchmarks/bench.py --quick`, the run CI does, against numbers
computed here. Its parts alone are tests/unit/test_benchmark.py and tests/integration/test_benchmark.py."""

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
from tests.support import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import corpora
import measure

TOOLS = [
    "spark", "spark-canonical", "mrjob-inline", "mrjob-local", "freq-inline", "freq-local", "hadoop",
    "tr-sort-uniq", "python-counter", "duckdb", "polars",
]  # fmt: skip
END_TO_END = ("spark-trivial", "main-cold", "main-noop")  # --quick has no many-book run


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
    assert sorted(runs) == sorted([(t, 3) for t in TOOLS] + [(t, 0) for t in END_TO_END])

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
    for tool in (
        "spark",
        "mrjob-inline",
        "mrjob-local",
        "hadoop",
        "python-counter",
        "polars",
    ):
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
    assert f"| {body_mib:.0f} MiB | local disk | our Spark job (spark-submit, local[2]) | ours |" in markdown
    assert all(runs[(tool, 3)]["storage"] == "local disk" for tool in TOOLS)
    assert "Mini HDFS" not in markdown  # --quick starts no Hadoop
    assert "| README main command, no-op rerun |" in markdown
    assert (
        len([t for t in results["targets"] if t["measured"] is not None]) == 13
    )  # one size, no many-book run
    assert (tmp_path / "quick" / "throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
