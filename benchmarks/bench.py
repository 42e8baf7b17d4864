"""Benchmark the word-count engines against the tools a user would pick instead, on the same text.

Builds corpora of about 64 MiB, 256 MiB and 1 GiB of body text by serving the books of the shared
Gutenberg mirror again under new ids from a loopback server and running the pipeline's own stages
(TopBooks -> DownloadBook -> CorpusParquet -> CorpusText) against it; then times every tool, one after
another, on each corpus, checks that our engines' full word tables are identical, and writes a Markdown
table, a JSON file and a throughput plot under `[storage] root`/benchmarks/<mode>/:

    python benchmarks/bench.py              # 64 MiB, 256 MiB, 1 GiB (about 40 minutes on 2 cores)
    python benchmarks/bench.py --quick      # 3 MiB, under two minutes (CI)
    python benchmarks/bench.py --sizes 16,64 --tools spark,tr-sort-uniq
    python benchmarks/bench.py --sizes 256 --tools spark,hadoop,spark-hdfs,hadoop-hdfs --no-end-to-end

The HDFS rows (tools spark-hdfs and hadoop-hdfs, or --hdfs for both) run after every local row, on a
mini HDFS and YARN started for them under the run directory and stopped at the end, on a copy of each
corpus; only they run while it is up.

The parts: corpora.py (the corpora), measure.py (timing one command), tools.py (what is timed),
minihdfs.py (the mini HDFS and the corpora's copies), report.py with targets.json (the targets and the
files written).
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import luigi
from corpora import Corpus, build_corpora, mirror_books, pipeline_command
from measure import Run, log
from minihdfs import mini_cluster, upload
from report import Report, machine, markdown, targets, write
from tools import E2E_BOOKS, Tool, floor_and_end_to_end, run_tool, tool_table

from pipeline import storage
from pipeline.config import spark_environment
from pipeline.jvm import class_archive_path

FULL_SIZES = (64, 256, 1024)
QUICK_SIZES = (3,)


def class_archive() -> float:
    """Seconds taken to make the Spark driver's class archive (SparkClassArchive), 0 if it was made."""
    path = class_archive_path()
    if path is not None and path.exists():
        return 0.0
    started = time.monotonic()
    command = pipeline_command("SparkClassArchive", "--local-scheduler")
    if subprocess.run(command, capture_output=True, text=True, check=False).returncode != 0:
        sys.exit(f"`{' '.join(command)}` failed")
    seconds = time.monotonic() - started
    log(f"class archive: {seconds:.0f} s")
    return round(seconds, 1)


def check_identical(tables: dict[str, dict[str, int]], size: float) -> None:
    """Our engines' full word tables must agree before any of their times count."""
    names = list(tables)
    reference = tables[names[0]]
    for name in names[1:]:
        if tables[name] != reference:
            differing = sorted(
                w for w in reference.keys() | tables[name].keys() if reference.get(w) != tables[name].get(w)
            )
            sys.exit(
                f"{size:g} MiB: {name} and {names[0]} disagree on {len(differing)} words,"
                f" e.g. {differing[:5]}"
            )
    log(
        f"{size:g} MiB: {', '.join(names)} agree on all {len(reference)} words"
        f" ({sum(reference.values())} tokens)"
    )


Result = tuple[Tool, Run, dict[str, int]]


def run_corpus(corpus: Corpus, tools: list[Tool], workdir: Path) -> list[Result]:
    """Every tool that takes this corpus's size, with its run and its word table."""
    taken = [tool for tool in tools if corpus.size_mib <= tool.max_mib]
    return [(tool, *run_tool(tool, corpus, workdir)) for tool in taken]


def compare(results: list[Result], size: float) -> None:
    """Our engines' tables on one corpus must agree; then each run is marked same as ours or not."""
    ours = {tool.name: counts for tool, _, counts in results if tool.ours}
    if ours:
        check_identical(ours, size)
        reference = next(iter(ours.values()))
        for _, run, counts in results:
            run.same_as_ours = counts == reference


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small corpus (CI smoke run)")
    parser.add_argument("--sizes", help="corpus sizes in MiB, comma-separated (default 64,256,1024)")
    parser.add_argument(
        "--tools", help="comma-separated subset of the tools (default all but the HDFS ones, *-hdfs)"
    )
    parser.add_argument(
        "--hdfs", action="store_true", help="also the HDFS rows (spark-hdfs, hadoop-hdfs) on a mini HDFS"
    )
    parser.add_argument("--root", help="working directory (default [storage] root/benchmarks)")
    parser.add_argument("--no-end-to-end", action="store_true", help="skip the floor and main-command runs")
    args = parser.parse_args(argv)

    sizes = (
        [float(s) for s in args.sizes.split(",")]
        if args.sizes
        else list(QUICK_SIZES if args.quick else FULL_SIZES)
    )
    mode = "quick" if args.quick else "full"
    root = Path(args.root or Path(storage.root()) / "benchmarks").resolve()
    workdir = root / mode
    store = root / "store"
    # The corpora's paths come from the pipeline's own path functions, under this root.
    luigi.configuration.get_config().set("storage", "root", str(store))
    # Our spark-submit commands run without the pipeline's task around them, which would set SPARK_HOME
    # (without it pyspark's spark-submit asks the `python3` on PATH, not this one, where Spark is).
    os.environ.update(spark_environment())
    workdir.mkdir(parents=True, exist_ok=True)
    table = tool_table(workdir)
    quick_skips = {"spark-builtin"} if args.quick else set()
    named = (
        args.tools.split(",")
        if args.tools
        else [t.name for t in table if not t.hdfs and t.name not in quick_skips]
    )
    if unknown := set(named) - {t.name for t in table}:
        listed = ", ".join(t.name for t in table)
        parser.error(f"unknown tools {', '.join(sorted(unknown))} (the tools: {listed})")
    tools = [t for t in table if t.name in named or (args.hdfs and t.hdfs)]
    report = Report(
        mode,
        "python benchmarks/bench.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        datetime.date.today().isoformat(),
        machine(),
    )
    corpora = build_corpora(sizes, store)
    if not args.no_end_to_end or any(
        t.name.startswith("spark") and t.name != "spark-canonical" for t in tools
    ):
        report.class_archive_s = class_archive()
    # The quick run (CI's) has no many-book run and no builtin-tokenizer row: a minute less.
    many = None if args.quick else E2E_BOOKS
    end_to_end = [] if args.no_end_to_end else floor_and_end_to_end(workdir, mirror_books(), many)
    results: dict[float, list[Result]] = {corpus.size_mib: [] for corpus in corpora}

    def done(corpus: Corpus, tools: list[Tool]) -> None:
        """Runs `tools` on `corpus`, compares its tables and writes the results so far (a long run
        leaves them as it goes); each corpus's rows stay together in the report, HDFS rows last."""
        results[corpus.size_mib] += run_corpus(corpus, tools, workdir)
        compare(results[corpus.size_mib], corpus.size_mib)
        report.runs = end_to_end + [run for size in results for _, run, _ in results[size]]
        write(report, workdir)

    for corpus in corpora:
        done(corpus, [t for t in tools if not t.hdfs])
    if hdfs := [t for t in tools if t.hdfs]:
        # Started after every local row, which so ran as without it; stopped however the block ends.
        with mini_cluster(workdir / "hadoop-cluster") as cluster:
            report.hdfs = {"hadoop": cluster.hadoop_version, "start_s": cluster.start_s, "upload_s": {}}
            for corpus in corpora:
                copied = upload(cluster, corpus)
                report.hdfs["upload_s"][f"{corpus.size_mib:g}"] = copied.hdfs.upload_s
                done(copied, hdfs)
    report.targets = targets(report.runs)
    write(report, workdir)
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
