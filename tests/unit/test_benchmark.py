"""benchmarks/report.py on fixed numbers: each target is a ratio of runs of the same invocation."""

from __future__ import annotations

import sys

from tests.support import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import measure
import report


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
        run("polars", 1024, 20.0, 51.2), run("main-many-cold", 0, 30.0), run("tr-many-raw", 0, 8.0),
        run("main-many-noop", 0, 0.8),
    ]  # fmt: skip
    measured = {t["target"]: (t["measured"], t["met"]) for t in report.targets(runs)}
    assert measured == {
        "1. Spark vs tr|sort|uniq at 1024 MiB (throughput)": (1.25, True),
        "1. Spark vs canonical example at 1024 MiB": (6.25, True),
        "3. our mrjob vs mr_word_freq_count, inline, 64 MiB": (8.0, True),
        "3. our mrjob vs mr_word_freq_count, local, 64 MiB": (4.0, False),
        "4. no-op rerun (seconds)": (3.5, False),
        "5. peak RSS of mrjob-inline at 1024 MiB (MiB)": (None, None),
        "5. peak RSS of mrjob-local at 1024 MiB (MiB)": (900, True),
        "5. peak RSS of hadoop at 1024 MiB (MiB)": (1100, False),
        "5. peak RSS of spark at 1024 MiB (MiB)": (2500, True),
        "15.1 main command cold vs trivial spark-submit (time)": (1.4, True),
        "15.2 128 books end to end vs tr|sort|uniq over their raw files (time)": (
            3.75,
            False,
        ),
        "15.3 Spark vs DuckDB at 1024 MiB (throughput)": (0.5, False),
        "15.3 Spark vs polars at 1024 MiB (throughput)": (0.25, False),
        "15.4 Hadoop engine vs our mrjob -r local at 1024 MiB": (0.95, False),
        "15.5 no-op rerun at many books (seconds)": (0.8, True),
        "15.5 Spark time 256 -> 1024 MiB": (4.0, True),
    }
