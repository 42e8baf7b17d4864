"""What is timed: the tool table (each tool's command and the reader of its word table), and the runs.

Our Spark job and the Hadoop engine write the pipeline's word-count table, read by pipeline.formats. Our
mrjob job runs from the command line, as its docstring shows, and so writes mrjob's output, read with the
job's own protocol (as WordCountMR reads it). Each baseline writes what it writes as shipped.

The HDFS tools (`spark-hdfs`, `hadoop-hdfs`) run only when asked for: they read the corpus's copy on a mini
HDFS (minihdfs.py) and write their table there; it is fetched to the run directory after the timed run.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import mrjob.examples.mr_word_freq_count as mr_word_freq_count
import pyspark
from corpora import (
    BENCH_DATE,
    PERIOD,
    Corpus,
    MirrorBook,
    corpus_flags,
    offline_flags,
    pipeline_command,
    repeated_mirror,
    serving,
    static_mirror,
)
from measure import MIB, Run, log, measure
from minihdfs import HdfsCorpus
from mrjob.job import MRJob

import jobs
from jobs import textrules
from jobs.mr_word_count import MRWordCount
from pipeline import config, storage
from pipeline.formats import read_word_counts
from pipeline.spark import spark_submit_command, tokenizer_args

# The project's jobs package, wherever it is installed; its parent is what puts `jobs` on sys.path.
JOBS_DIR = Path(jobs.__file__).resolve().parent
PROJECT_DIR = JOBS_DIR.parent
MRJOB_CONF = config.MRJOB_CONF
ALL = float("inf")
FREQ_MAX_MIB = 64  # mrjob's example runs at about 1 MiB/s: a 1 GiB corpus would take it 20 minutes a runner
TR_PIPELINE = "LC_ALL=C tr -cs \"A-Za-z'\" '\\n' | tr A-Z a-z | sort | uniq -c | sort -rn"
FREQ_RULES = r"[\w']+"  # mr_word_freq_count's WORD_RE
DUCKDB_SPLIT = r"[^\p{L}\p{M}'’]+"
LOCAL_DISK = "local disk"
MINI_HDFS = "mini HDFS"
# The HDFS row's Hadoop job: one reduce task a core. WordCountHadoop's default, 8, starts 8 reducer JVMs
# for a few hundred KB of map output each: on 2 cores the job took 30 to 40 s longer on the 256 MiB corpus
# than with 2 (2026-12-01, two runs of each).
HDFS_REDUCE_TASKS = len(os.sched_getaffinity(0))


@dataclass
class Tool:
    name: str
    label: str
    ours: bool  # one of our engines: its table must equal the others'
    max_mib: float  # larger corpora are skipped: the slow baselines would take hours
    command: Callable[[Corpus, Path], list[str]]  # (corpus, run directory) -> argv
    read: Callable[[Path], dict[str, int]]  # the word table at output(corpus, run directory)
    tokenisation: str = "ours"
    stdout: bool = False  # the table is the command's stdout
    # Where the tool's word table lands (a path, or an hdfs:// URI); default `out` in the run's directory.
    output: Callable[[Corpus, Path], str | Path] = lambda corpus, run_dir: run_dir / "out"
    storage: str = LOCAL_DISK  # where it reads the corpus and writes its table; MINI_HDFS: the corpus's copy
    env: Callable[[Corpus], dict[str, str]] | None = None  # its environment, if not this process's

    @property
    def hdfs(self) -> bool:
        return self.storage == MINI_HDFS


# --- Spark -----------------------------------------------------------------------------------------------


def spark_submit(
    app: str,
    app_options: Sequence[str] = (),
    run_dir: Path | None = None,
    extra: Sequence[str] = (),
    class_archive: bool = True,
) -> list[str]:
    """spark-submit with the pipeline's [spark] settings on local[2], then `extra`; with `run_dir`, an
    event log in it; `class_archive` False: a plain driver (the floor, Spark's own example)."""
    events = event_log_conf(run_dir) if run_dir else []
    return spark_submit_command(
        app, app_options, master="local[2]", extra_args=[*events, *extra], class_archive=class_archive
    )


def event_log_conf(run_dir: Path) -> list[str]:
    events = run_dir / "events"
    events.mkdir(parents=True, exist_ok=True)
    return [
        "--conf", "spark.eventLog.enabled=true",
        "--conf", "spark.eventLog.compress=false",
        "--conf", f"spark.eventLog.dir={events.as_uri()}",
    ]  # fmt: skip


def jvm_free_seconds(run_dir: Path) -> float | None:
    """SparkListenerApplicationStart to ApplicationEnd: the job without JVM and SparkContext start-up.

    None where the run wrote no Spark event log.
    """
    start = end = None
    for path in (run_dir / "events").rglob("events_*"):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if '"SparkListenerApplicationStart"' in line:
                    start = json.loads(line)["Timestamp"]
                elif '"SparkListenerApplicationEnd"' in line:
                    end = json.loads(line)["Timestamp"]
    return None if start is None or end is None else (end - start) / 1000


TRIVIAL_SCRIPT = """
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("trivial").getOrCreate()
assert spark.range(10).count() == 10
spark.stop()
"""


# --- the baselines' scripts and readers ------------------------------------------------------------------

COUNTER_SCRIPT = """
import sys
from collections import Counter
sys.path.insert(0, {project!r})
from jobs.textrules import words
counts = Counter()
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            counts.update(words(line))
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.writelines(f"{{w}}\\t{{c}}\\n" for w, c in counts.most_common())
"""

DUCKDB_SCRIPT = '''
import sys
import duckdb
corpus, out, pattern = sys.argv[1:4]
quote = lambda s: "'" + s.replace("'", "''") + "'"
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute(f"""
    COPY (
        SELECT word, count(*) AS n
        FROM (SELECT unnest(string_split_regex(lower(text), {quote(pattern)})) AS word
              FROM read_parquet({quote(corpus + "/*.parquet")}))
        WHERE word <> ''
        GROUP BY word ORDER BY n DESC, word
    ) TO {quote(out)} (FORMAT csv, HEADER false)
""")
'''


# Our rules in polars (its regex engine is Rust's): the shortcut of textrules.words, row by row. A text
# with a capital sigma is lowercased token by token after the match; Rust's to_lowercase applies
# Unicode's Final_Sigma within each token, as Python's str.lower does.
POLARS_SCRIPT = """
import sys
import polars as pl
corpus, out, pattern, sigma, curly = sys.argv[1:6]
text = pl.col("text")
cased = text.str.contains(sigma, literal=True)
words = (
    pl.scan_parquet(corpus + "/*.parquet")
    .select(
        pl.when(cased)
        .then(text.str.extract_all(pattern).list.eval(pl.element().str.to_lowercase()))
        .otherwise(text.str.to_lowercase().str.extract_all(pattern))
        .alias("word")
    )
    .explode("word")
    .drop_nulls()
    .select(pl.col("word").str.replace_all(curly, "\'", literal=True))
    .group_by("word")
    .len("n")
    .sort(["n", "word"], descending=[True, False])
)
words.collect().write_csv(out, include_header=False)
"""


def read_ours(path: Path) -> dict[str, int]:
    """The pipeline's word-count table (Parquet), as WordCountSpark and WordCountHadoop write it."""
    return dict(read_word_counts(str(path)))


def read_tsv(path: Path) -> dict[str, int]:
    """`word<TAB>count` lines."""
    counts: dict[str, int] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            word, _, count = line.rstrip("\n").rpartition("\t")
            counts[word] = int(count)
    return counts


def read_mrjob(job: type[MRJob]) -> Callable[[Path], dict[str, int]]:
    """The reader of `job`'s --output-dir: its part-* files decoded by the job's own output protocol."""

    def read(path: Path) -> dict[str, int]:
        return dict(job(args=[]).parse_output(part.read_bytes() for part in sorted(path.glob("part-*"))))

    return read


def read_uniq_c(path: Path) -> dict[str, int]:
    """`uniq -c` lines: `   count word`."""
    counts = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            count, _, word = line.strip().partition(" ")
            if word:
                counts[word] = int(count)
    return counts


def read_canonical(path: Path) -> dict[str, int]:
    """Spark's wordcount.py prints `word: count`; Spark's own log lines have no such suffix."""
    counts = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            word, _, count = line.rstrip("\n").rpartition(": ")
            if word and count.isdigit():
                counts[word] = int(count)
    return counts


def read_csv_counts(path: Path) -> dict[str, int]:
    with open(path, encoding="utf-8", newline="") as handle:
        return {row[0]: int(row[1]) for row in csv.reader(handle)}


# --- the table -------------------------------------------------------------------------------------------


def copy(corpus: Corpus) -> HdfsCorpus:
    """The corpus's copy on the mini HDFS, which an HDFS tool runs on."""
    if corpus.hdfs is None:
        raise ValueError(f"the {corpus.size_mib:g} MiB corpus has no copy on HDFS (minihdfs.upload)")
    return corpus.hdfs


def tool_table(workdir: Path) -> list[Tool]:
    """Every tool, in the order they run; writes the baselines' scripts into `workdir`."""
    python = sys.executable
    freq = Path(mr_word_freq_count.__file__)
    canonical = Path(pyspark.__file__).parent / "examples/src/main/python/wordcount.py"
    counter = workdir / "counter.py"
    counter.write_text(COUNTER_SCRIPT.format(project=str(PROJECT_DIR)))
    duckdb_script = workdir / "duck.py"
    duckdb_script.write_text(DUCKDB_SCRIPT)
    polars_script = workdir / "polars_count.py"
    polars_script.write_text(POLARS_SCRIPT)

    def out(run_dir: Path) -> Path:
        return run_dir / "out"

    def spark_job(c: Corpus, d: Path) -> list[str]:
        jars, options = tokenizer_args()
        return spark_submit(str(JOBS_DIR / "word_count.py"), [c.parquet_dir, str(out(d)), *options], d, jars)

    def spark_builtin(c: Corpus, d: Path) -> list[str]:
        options = [c.parquet_dir, str(out(d)), "--tokenizer=builtin"]
        return spark_submit(str(JOBS_DIR / "word_count.py"), options, d)

    def spark_canonical(c: Corpus, d: Path) -> list[str]:
        return spark_submit(str(canonical), [c.text_dir], d, class_archive=False)

    def mr(script: Path, runner: str) -> Callable[[Corpus, Path], list[str]]:
        return lambda c, d: [
            python, str(script), "-r", runner, "--conf-path", str(MRJOB_CONF),
            "--output-dir", str(out(d)), "--no-cat-output", *c.text_parts,
        ]  # fmt: skip

    def hadoop(c: Corpus, d: Path) -> list[str]:
        # The corpus is built, so nothing is downloaded: a dead URL (the discard port) makes sure of it.
        return pipeline_command(
            "WordCountHadoop", *corpus_flags(c.n_books), *offline_flags("http://127.0.0.1:9", c.store)
        )

    def hadoop_output(c: Corpus, d: Path) -> Path:
        return Path(storage.word_counts_path("hadoop", BENCH_DATE, PERIOD, c.n_books))

    # --- the same two on the corpus's copy on the mini HDFS -----------------------------------------------

    def spark_hdfs(c: Corpus, d: Path) -> list[str]:
        jars, options = tokenizer_args()
        return spark_submit(
            str(JOBS_DIR / "word_count.py"), [copy(c).parquet_dir, spark_hdfs_output(c, d), *options], d, jars
        )

    def spark_hdfs_output(c: Corpus, d: Path) -> str:
        return f"{copy(c).root}/benchmarks/{d.name}"

    def hadoop_hdfs(c: Corpus, d: Path) -> list[str]:
        # The copy's CorpusText is complete, so the pipeline starts from it (and nothing is downloaded).
        flags = offline_flags("http://127.0.0.1:9", copy(c).root)
        port = copy(c).cluster.webhdfs_port
        return pipeline_command(
            "WordCountHadoop", *corpus_flags(c.n_books), *flags, f"--webhdfs-port={port}",
            f"--n-reduce-tasks={HDFS_REDUCE_TASKS}",
        )  # fmt: skip

    def hadoop_hdfs_output(c: Corpus, d: Path) -> str:
        return copy(c).cluster.uri(c.store, hadoop_output(c, d))

    def tr_sort_uniq(c: Corpus, d: Path) -> list[str]:
        return ["bash", "-c", f'cat "$@" | {TR_PIPELINE} > {out(d)}', "tr", *c.text_parts]

    def python_counter(c: Corpus, d: Path) -> list[str]:
        return [python, str(counter), str(out(d)), *c.text_parts]

    def duck(c: Corpus, d: Path) -> list[str]:
        return [python, str(duckdb_script), c.parquet_dir, str(out(d)), DUCKDB_SPLIT]

    def polars(c: Corpus, d: Path) -> list[str]:
        return [
            python, str(polars_script), c.parquet_dir, str(out(d)), textrules.WORD_PATTERN,
            textrules.CONTEXT_CASED, textrules.APOSTROPHE_FROM,
        ]  # fmt: skip

    ours = JOBS_DIR / "mr_word_count.py"
    # Run as a user runs it, the job writes mrjob's output, not the table WordCountMR makes of it.
    read_mr_word_count = read_mrjob(MRWordCount)
    return [
        Tool("spark", "our Spark job (spark-submit, local[2])", True, ALL, spark_job, read_ours),
        Tool(
            "spark-builtin", "our Spark job, Spark's built-in functions only (no jar)", True, ALL,
            spark_builtin, read_ours,
        ),
        Tool(
            "spark-canonical", "Spark's examples/src/main/python/wordcount.py", False, ALL, spark_canonical,
            read_canonical, "split on ' '", stdout=True,
        ),
        Tool("mrjob-inline", "our mrjob job, -r inline", True, ALL, mr(ours, "inline"), read_mr_word_count),
        Tool("mrjob-local", "our mrjob job, -r local", True, ALL, mr(ours, "local"), read_mr_word_count),
        Tool(
            "freq-inline", "mrjob's mr_word_freq_count, -r inline", False, FREQ_MAX_MIB,
            mr(freq, "inline"), read_mrjob(mr_word_freq_count.MRWordFreqCount), FREQ_RULES,
        ),
        Tool(
            "freq-local", "mrjob's mr_word_freq_count, -r local", False, FREQ_MAX_MIB,
            mr(freq, "local"), read_mrjob(mr_word_freq_count.MRWordFreqCount), FREQ_RULES,
        ),
        Tool(
            "hadoop", "our luigi.contrib.hadoop job (local runner)", True, ALL, hadoop, read_ours,
            output=hadoop_output,
        ),
        Tool("tr-sort-uniq", f"`{TR_PIPELINE}`", False, ALL, tr_sort_uniq, read_uniq_c, "[A-Za-z']+, ASCII"),
        Tool(
            "python-counter", "Python Counter, one process (our text rules)", False, ALL, python_counter,
            read_tsv,
        ),
        Tool(
            "duckdb", "DuckDB SQL, 2 threads (regexp split, unnest, group by)", False, ALL, duck,
            read_csv_counts, "split on non-letters",
        ),
        Tool(
            "polars", "polars, 2 threads (our word pattern and lowercasing rule)", False, ALL, polars,
            read_csv_counts, env=lambda c: {**os.environ, "POLARS_MAX_THREADS": "2"},
        ),
        Tool(
            "spark-hdfs", "our Spark job (spark-submit, local[2]), hdfs:// in and out", True, ALL, spark_hdfs,
            read_ours, output=spark_hdfs_output, storage=MINI_HDFS,
        ),
        Tool(
            "hadoop-hdfs",
            f"our luigi.contrib.hadoop job (Hadoop streaming on the mini YARN, {HDFS_REDUCE_TASKS} reducers)",
            True, ALL, hadoop_hdfs, read_ours, output=hadoop_hdfs_output, storage=MINI_HDFS,
            env=lambda c: copy(c).cluster.env(),
        ),
    ]  # fmt: skip


# --- running ---------------------------------------------------------------------------------------------


def log_run(run: Run) -> None:
    size, rate = (f"{run.size_mib:6g} MiB  ", f"{run.mib_per_s:6.2f} MiB/s  ") if run.size_mib else ("", "")
    cluster = f" (+ {run.cluster_rss_mib:.0f} MiB mini cluster)" if run.cluster_rss_mib is not None else ""
    yarn = f", {run.yarn_s:.1f} s on YARN" if run.yarn_s is not None else ""
    log(f"{run.tool:16s} {size}{run.wall_s:8.1f} s  {rate}{run.peak_rss_mib:6.0f} MiB RSS{cluster}{yarn}")


def run_tool(tool: Tool, corpus: Corpus, workdir: Path) -> tuple[Run, dict[str, int]]:
    """Time `tool` on `corpus` in a fresh run directory; its Run and its word table."""
    run_dir = workdir / f"{tool.name}-{corpus.size_mib:g}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    output = tool.output(corpus, run_dir)
    cluster = copy(corpus).cluster if tool.hdfs else None
    # A word count output left by an earlier run.
    if cluster:
        cluster.fs("-rm", "-r", "-f", "-skipTrash", str(output))
    else:
        shutil.rmtree(output, ignore_errors=True)
    stdout = Path(output) if tool.stdout else run_dir / "log"
    env = tool.env(corpus) if tool.env else None
    started_ms = int(time.time() * 1000)
    also = (cluster.pid,) if cluster else ()
    measured = measure(tool.command(corpus, run_dir), stdout=stdout, env=env, also=also)
    if measured.returncode != 0:
        sys.exit(f"{tool.name} failed on {corpus.size_mib:g} MiB (exit {measured.returncode}); see {run_dir}")
    yarn_s = cluster.yarn_seconds(started_ms) if cluster else None
    local = Path(output)
    if cluster:  # fetched after the timed run, as the local rows' tables are read after theirs
        local = run_dir / "out"
        cluster.fs("-get", str(output), str(local))
    counts = tool.read(local)
    body_mib = corpus.body_bytes / MIB
    run = Run(
        tool.name, corpus.size_mib, round(body_mib, 1), round(measured.wall_s, 2),
        round(body_mib / measured.wall_s, 2), round(measured.peak_rss_mib), len(counts),
        jvm_free_s=jvm_free_seconds(run_dir), label=tool.label, tokenisation=tool.tokenisation,
        storage=tool.storage, cluster_rss_mib=round(measured.also_peak_rss_mib) if cluster else None,
        yarn_s=yarn_s,
    )  # fmt: skip
    log_run(run)
    return run, counts


E2E_BOOKS = 128  # the many-book end-to-end run (not in --quick)
E2E_DATE = "2000-01-02"  # not the corpora's date: this run downloads its books


def floor_and_end_to_end(
    workdir: Path, books: list[MirrorBook], n_books: int | None = E2E_BOOKS
) -> list[Run]:
    """The trivial spark-submit (the JVM floor) and the README's main command, cold and as a no-op; then,
    unless `n_books` is None, the same at `n_books` copies of the mirror's books from a loopback server
    (every stage, downloads included), and `tr | sort | uniq` over the raw files that run downloaded."""
    script = workdir / "trivial.py"
    script.write_text(TRIVIAL_SCRIPT)
    store = workdir / "end-to-end"
    many = workdir / f"end-to-end-{n_books}"
    for folder in (store, many):
        shutil.rmtree(folder, ignore_errors=True)
    with serving(static_mirror()) as url:
        main = pipeline_command("TopWordsSpark", *offline_flags(url, store))
        trivial = spark_submit(str(script), class_archive=False)
        runs = timed({"spark-trivial": trivial, "main-cold": main, "main-noop": main})
    if n_books is None:
        for run in runs:
            log_run(run)
        return runs
    with serving(repeated_mirror(n_books, books)) as url:
        flags = [f"--n-books={n_books}", f"--date={E2E_DATE}", *offline_flags(url, many)]
        main = pipeline_command("TopWordsSpark", *flags)
        runs += timed({"main-many-cold": main, "main-many-noop": main})
    raw = sorted(str(p) for p in (many / "raw").glob("*/pg*.txt"))
    if len(raw) != n_books:
        sys.exit(f"the {n_books}-book run left {len(raw)} raw books in {many / 'raw'}")
    raw_mb = sum(Path(p).stat().st_size for p in raw) / 1e6
    out = workdir / "tr-many.txt"
    runs += timed({"tr-many-raw": ["bash", "-c", f'cat "$@" | {TR_PIPELINE} > {out}', "tr", *raw]})
    labels = {
        "main-many-cold": f"the same at {n_books} books (copies of the mirror's, {raw_mb:.0f} MB raw), cold",
        "main-many-noop": f"the same at {n_books} books, no-op rerun",
        "tr-many-raw": f"`{TR_PIPELINE}` over those {n_books} raw files",
    }
    for run in runs:
        run.label = labels.get(run.tool, "")
    for run in runs:
        log_run(run)
    return runs


def timed(commands: dict[str, list[str]]) -> list[Run]:
    """Each command run once, in order, as a corpus-less Run; a failed one ends the benchmark."""
    runs = []
    for name, command in commands.items():
        measured = measure(command)
        if measured.returncode != 0:  # a failed run would pass for a fast one
            sys.exit(f"{name}: `{' '.join(command[:8])} ...` exited {measured.returncode}")
        runs.append(Run(name, 0, 0, round(measured.wall_s, 2), 0, round(measured.peak_rss_mib)))
    return runs
