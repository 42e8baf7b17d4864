"""Benchmark the word-count engines against the tools a user would pick instead, on the same text.

Builds corpora of about 64 MiB, 256 MiB and 1 GiB of body text by serving the books of the shared
Gutenberg mirror again under new ids from a loopback server and running the pipeline's own stages
(TopBooks -> DownloadBook -> CorpusParquet -> CorpusText) against it; then times every tool, one after
another, on each corpus, checks that our engines' full word tables are identical, and writes a Markdown
table, a JSON file and a throughput plot under `[storage] root`/benchmarks/<mode>/:

    python benchmarks/bench.py              # 64 MiB, 256 MiB, 1 GiB (about 40 minutes on 2 cores)
    python benchmarks/bench.py --quick      # 3 MiB, under two minutes (CI)
    python benchmarks/bench.py --sizes 16,64 --tools spark,tr-sort-uniq
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import html
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import luigi  # noqa: E402

from jobs import textrules  # noqa: E402
from pipeline import gutenberg as gb  # noqa: E402
from pipeline import storage  # noqa: E402

MIB = 1024 * 1024
FULL_SIZES = (64, 256, 1024)
QUICK_SIZES = (3,)
MIRROR = Path(os.environ.get("GUTENBERG_MIRROR", REPO.parent / "shared" / "gutenberg" / "mirror"))
BIN = Path(sys.executable).parent
SPARK_SUBMIT = str(BIN / "spark-submit") if (BIN / "spark-submit").exists() else "spark-submit"
LUIGI = str(BIN / "luigi") if (BIN / "luigi").exists() else "luigi"
FIRST_ID = 1_000_001  # ids of the repeated books; far above the real catalogue's
BENCH_DATE = datetime.date(2000, 1, 1)  # the corpora's TopBooks date: fixed, so reruns reuse them
PERIOD = "yesterday"
ALL = float("inf")
FREQ_MAX_MIB = 64  # mrjob's example runs at about 1 MiB/s: a 1 GiB corpus would take it 20 minutes a runner
TR_PIPELINE = "LC_ALL=C tr -cs \"A-Za-z'\" '\\n' | tr A-Z a-z | sort | uniq -c | sort -rn"


# --- the corpora -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MirrorBook:
    book_id: int
    title: str
    author: str
    data: bytes
    body_bytes: int


def mirror_books(mirror: Path = MIRROR) -> list[MirrorBook]:
    """The mirror's books in top-list order, with their body size under the text rules."""
    page = (mirror / "browse" / "scores" / "top").read_text(encoding="utf-8")
    books = []
    for ranked in gb.parse_top_page(page, "yesterday"):
        path = mirror / "cache" / "epub" / str(ranked.book_id) / f"pg{ranked.book_id}.txt"
        if path.exists():
            data = path.read_bytes()
            body = textrules.read_book(data).body
            books.append(MirrorBook(ranked.book_id, ranked.title, ranked.author, data, len(body.encode())))
    return books


def books_for(size_mib: float, books: list[MirrorBook]) -> int:
    """How many repeated books (round robin over the mirror) reach `size_mib` of body text."""
    total, n = 0, 0
    while total < size_mib * MIB:
        total += books[n % len(books)].body_bytes
        n += 1
    return n


def top_page(n: int, books: list[MirrorBook]) -> bytes:
    """A /browse/scores/top page listing n repeated books under new ids."""
    items = []
    for k in range(n):
        book = books[k % len(books)]
        label = html.escape(f"{book.title} (copy {k // len(books) + 1}) by {book.author} ({n - k})")
        items.append(f'<li><a href="/ebooks/{FIRST_ID + k}">{label}</a></li>')
    body = "\n".join(items)
    return f'<html><body><h2 id="books-last1">Top</h2>\n<ol>\n{body}\n</ol></body></html>'.encode()


class Server:
    """A loopback HTTP server answering from a function of the path (bytes, or None for 404)."""

    def __init__(self, resolve: Callable[[str], bytes | None]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = resolve(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def repeated_mirror(n: int, books: list[MirrorBook]) -> Callable[[str], bytes | None]:
    """The resolver of a mirror whose top list holds n copies of the shared books."""
    page = top_page(n, books)
    book_path = re.compile(r"^/cache/epub/([0-9]+)/pg\1\.txt$")

    def resolve(path: str) -> bytes | None:
        if path == "/browse/scores/top":
            return page
        match = book_path.match(path)
        if match and 0 <= int(match.group(1)) - FIRST_ID < n:
            return books[(int(match.group(1)) - FIRST_ID) % len(books)].data
        return None

    return resolve


def static_mirror(mirror: Path = MIRROR) -> Callable[[str], bytes | None]:
    def resolve(path: str) -> bytes | None:
        file = (mirror / path.lstrip("/")).resolve()
        inside = file.is_relative_to(mirror.resolve())
        return file.read_bytes() if inside and file.is_file() else None

    return resolve


@dataclass(frozen=True)
class Corpus:
    size_mib: float
    store: Path  # the [storage] root the corpus was built under
    n_books: int
    body_bytes: int  # UTF-8 bytes of the `text` column: the MB of every MB/s
    parquet_dir: str
    text_dir: str
    text_parts: list[str]


def offline_flags(url: str, store: Path) -> list[str]:
    return [
        "--local-scheduler",
        f"--gutenberg-base-url={url}",
        "--gutenberg-delay-seconds=0",
        f"--storage-root={store}",
    ]


def corpus_flags(n_books: int) -> list[str]:
    return [f"--n-books={n_books}", f"--date={BENCH_DATE.isoformat()}", f"--period={PERIOD}"]


def build_corpus(size_mib: float, books: list[MirrorBook], store: Path, url: str) -> Corpus:
    """CorpusParquet and CorpusText of the first books_for(size) repeated books, by the pipeline itself."""
    n = books_for(size_mib, books)
    command = [LUIGI, "--module", "pipeline", "CorpusText", *corpus_flags(n), *offline_flags(url, store)]
    command.append("--workers=2")
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"building the {size_mib:g} MiB corpus failed:\n{result.stderr[-3000:]}")
    parquet_dir = Path(storage.corpus_path(BENCH_DATE, PERIOD, n))
    text_dir = Path(storage.corpus_text_path(BENCH_DATE, PERIOD, n))
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    body = ds.dataset(parquet_dir, format="parquet").to_table(columns=["text"]).column("text")
    body_bytes = pc.sum(pc.binary_length(body)).as_py()
    parts = sorted(str(p) for p in text_dir.glob("part-*.txt"))
    seconds = time.monotonic() - started
    log(f"corpus {size_mib:g} MiB: {n} books, {body_bytes / MIB:.1f} MiB of body text ({seconds:.0f} s)")
    return Corpus(size_mib, store, n, body_bytes, str(parquet_dir), str(text_dir), parts)


# --- measuring one command -----------------------------------------------------------------------------


def session_rss_kib(sid: int) -> int:
    """The summed resident memory of every process in session `sid` (a whole process tree)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            if int(fields[3]) != sid:  # fields after the name: state, ppid, pgrp, session, ...
                continue
            with open(f"/proc/{entry.name}/status", "rb") as handle:
                for line in handle:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1])
                        break
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return total


@dataclass
class Measurement:
    wall_s: float
    peak_rss_mib: float
    returncode: int


def measure(
    command: list[str], cwd: Path = REPO, stdout: Path | None = None, interval: float = 0.05
) -> Measurement:
    """Run `command` in its own session; wall time and the peak summed RSS of its process tree."""
    with contextlib.ExitStack() as files:
        out = files.enter_context(open(stdout, "wb")) if stdout else subprocess.DEVNULL
        err = files.enter_context(open(f"{stdout}.stderr", "wb")) if stdout else subprocess.DEVNULL
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        peak = 0
        try:
            while process.poll() is None:
                peak = max(peak, session_rss_kib(process.pid))
                time.sleep(interval)
        except BaseException:
            os.killpg(process.pid, signal.SIGTERM)
            raise
        wall = time.monotonic() - started
    return Measurement(wall, peak / 1024, process.returncode)


# --- the tools -------------------------------------------------------------------------------------------


@dataclass
class Run:
    tool: str
    size_mib: float
    body_mib: float
    wall_s: float
    mib_per_s: float
    peak_rss_mib: float
    distinct_words: int | None = None
    same_as_ours: bool | None = None
    jvm_free_s: float | None = None  # Spark jobs: SparkContext start to end, from the event log
    label: str = ""
    tokenisation: str = ""


@dataclass
class Tool:
    name: str
    label: str
    ours: bool
    max_mib: float  # larger corpora are skipped: the slow baselines would take hours
    command: Callable[[Corpus, Path], list[str]]
    read: Callable[[Path], dict[str, int]]
    tokenisation: str = "ours"
    stdout: bool = False
    # Where the tool's word table lands; default `out` in the run's directory.
    output: Callable[[Corpus, Path], Path] = lambda corpus, run_dir: run_dir / "out"


def spark_base(app_conf: list[str] | None = None) -> list[str]:
    """spark-submit with the pipeline's own [spark] settings, on local[2]."""
    from pipeline.config import spark
    from pipeline.tasks import spark_driver_java_options

    cfg = spark()
    command = [SPARK_SUBMIT, "--master", "local[2]", "--driver-memory", cfg.driver_memory or "2g"]
    for item in filter(None, (p.strip() for p in cfg.conf.split("|"))):
        command += ["--conf", item]
    command += ["--driver-java-options", spark_driver_java_options()]
    return command + (app_conf or [])


def event_log_conf(workdir: Path) -> list[str]:
    events = workdir / "events"
    events.mkdir(parents=True, exist_ok=True)
    return [
        "--conf", "spark.eventLog.enabled=true",
        "--conf", "spark.eventLog.compress=false",
        "--conf", f"spark.eventLog.dir={events.as_uri()}",
    ]  # fmt: skip


def jvm_free_seconds(workdir: Path) -> float | None:
    """SparkListenerApplicationStart to ApplicationEnd: the job without JVM and SparkContext start-up."""
    start = end = None
    for path in (workdir / "events").rglob("events_*"):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if '"SparkListenerApplicationStart"' in line:
                    start = json.loads(line)["Timestamp"]
                elif '"SparkListenerApplicationEnd"' in line:
                    end = json.loads(line)["Timestamp"]
    return None if start is None or end is None else (end - start) / 1000


def read_parquet_counts(path: Path) -> dict[str, int]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return dict(zip(table.column("word").to_pylist(), table.column("count").to_pylist(), strict=True))


def read_tsv_dir(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    files = sorted(path.glob("part-*")) if path.is_dir() else [path]
    for file in files:
        with open(file, encoding="utf-8") as handle:
            for line in handle:
                word, _, count = line.rstrip("\n").rpartition("\t")
                counts[word] = counts.get(word, 0) + int(count)
    return counts


def read_json_key_tsv_dir(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for file in sorted(path.glob("part-*")):
        with open(file, encoding="utf-8") as handle:
            for line in handle:
                key, _, count = line.rstrip("\n").rpartition("\t")
                counts[json.loads(key)] = int(count)
    return counts


def read_uniq_c(path: Path) -> dict[str, int]:
    counts = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            count, _, word = line.strip().partition(" ")
            if word:
                counts[word] = int(count)
    return counts


def read_canonical(path: Path) -> dict[str, int]:
    counts = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            word, _, count = line.rstrip("\n").rpartition(": ")
            if word and count.isdigit():
                counts[word] = int(count)
    return counts


def read_csv_counts(path: Path) -> dict[str, int]:
    import csv

    with open(path, encoding="utf-8", newline="") as handle:
        return {row[0]: int(row[1]) for row in csv.reader(handle)}


COUNTER_SCRIPT = """
import sys
from collections import Counter
sys.path.insert(0, {jobs!r})
from textrules import words
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
DUCKDB_SPLIT = r"[^\p{L}\p{M}'’]+"

TRIVIAL_SCRIPT = """
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("trivial").getOrCreate()
assert spark.range(10).count() == 10
spark.stop()
"""


def tools(workdir: Path) -> list[Tool]:
    python = sys.executable
    jobs = REPO / "jobs"
    mrjob_conf = ["--conf-path", str(REPO / "conf" / "mrjob.conf")]
    freq = Path(__import__("mrjob.examples.mr_word_freq_count").examples.mr_word_freq_count.__file__)
    canonical = Path(__import__("pyspark").__file__).parent / "examples/src/main/python/wordcount.py"
    counter = workdir / "counter.py"
    counter.write_text(COUNTER_SCRIPT.format(jobs=str(jobs)))

    def out(run_dir: Path) -> Path:
        return run_dir / "out"

    duckdb_script = workdir / "duck.py"
    duckdb_script.write_text(DUCKDB_SCRIPT)

    def duck(c: Corpus, d: Path) -> list[str]:
        return [python, str(duckdb_script), c.parquet_dir, str(out(d)), DUCKDB_SPLIT]

    def mr(script: list[str], runner: str) -> Callable[[Corpus, Path], list[str]]:
        return lambda c, d: [
            python,
            *script,
            "-r",
            runner,
            *mrjob_conf,
            "--output-dir",
            str(out(d)),
            "--no-cat-output",
            *c.text_parts,
        ]

    def hadoop_output(c: Corpus, d: Path) -> Path:
        return Path(storage.word_counts_path("hadoop", BENCH_DATE, PERIOD, c.n_books))

    def hadoop(c: Corpus, d: Path) -> list[str]:
        return [
            LUIGI,
            "--module",
            "pipeline",
            "WordCountHadoop",
            *corpus_flags(c.n_books),
            *offline_flags("http://127.0.0.1:9", c.store),
        ]

    def spark_job(c: Corpus, d: Path) -> list[str]:
        job = [str(jobs / "word_count.py"), c.parquet_dir, str(out(d))]
        return [*spark_base(event_log_conf(d)), "--py-files", str(jobs / "textrules.py"), *job]

    def spark_canonical(c: Corpus, d: Path) -> list[str]:
        return [*spark_base(event_log_conf(d)), str(canonical), c.text_dir]

    def tr_sort_uniq(c: Corpus, d: Path) -> list[str]:
        return ["bash", "-c", f'cat "$@" | {TR_PIPELINE} > {out(d)}', "tr", *c.text_parts]

    def python_counter(c: Corpus, d: Path) -> list[str]:
        return [python, str(counter), str(out(d)), *c.text_parts]

    ours = [str(jobs / "mr_word_count.py")]
    freq_rules = r"[\w']+"
    return [
        Tool("spark", "our Spark job (spark-submit, local[2])", True, ALL, spark_job, read_parquet_counts),
        Tool(
            "spark-canonical", "Spark's examples/src/main/python/wordcount.py", False, ALL, spark_canonical,
            read_canonical, "split on ' '", stdout=True,
        ),
        Tool("mrjob-inline", "our mrjob job, -r inline", True, ALL, mr(ours, "inline"), read_tsv_dir),
        Tool("mrjob-local", "our mrjob job, -r local", True, ALL, mr(ours, "local"), read_tsv_dir),
        Tool(
            "freq-inline", "mrjob's mr_word_freq_count, -r inline", False, FREQ_MAX_MIB,
            mr([str(freq)], "inline"), read_json_key_tsv_dir, freq_rules,
        ),
        Tool(
            "freq-local", "mrjob's mr_word_freq_count, -r local", False, FREQ_MAX_MIB,
            mr([str(freq)], "local"), read_json_key_tsv_dir, freq_rules,
        ),
        Tool(
            "hadoop", "our luigi.contrib.hadoop job (local runner)", True, ALL, hadoop, read_tsv_dir,
            output=hadoop_output,
        ),
        Tool("tr-sort-uniq", f"`{TR_PIPELINE}`", False, ALL, tr_sort_uniq, read_uniq_c, "[A-Za-z']+, ASCII"),
        Tool(
            "python-counter", "Python Counter, one process (our text rules)", False, ALL, python_counter,
            read_tsv_dir,
        ),
        Tool(
            "duckdb", "DuckDB SQL, 2 threads (regexp split, unnest, group by)", False, ALL, duck,
            read_csv_counts, "split on non-letters",
        ),
    ]  # fmt: skip


# --- running everything -----------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench {datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def run_tool(tool: Tool, corpus: Corpus, workdir: Path) -> tuple[Run, dict[str, int]]:
    run_dir = workdir / f"{tool.name}-{corpus.size_mib:g}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    output = tool.output(corpus, run_dir)
    shutil.rmtree(output, ignore_errors=True)  # a word count output left by an earlier run
    stdout = output if tool.stdout else run_dir / "log"
    measured = measure(tool.command(corpus, run_dir), stdout=stdout)
    if measured.returncode != 0:
        sys.exit(f"{tool.name} failed on {corpus.size_mib:g} MiB (exit {measured.returncode}); see {run_dir}")
    counts = tool.read(output)
    body_mib = corpus.body_bytes / MIB
    run = Run(
        tool.name, corpus.size_mib, round(body_mib, 1), round(measured.wall_s, 2),
        round(body_mib / measured.wall_s, 2), round(measured.peak_rss_mib), len(counts),
        label=tool.label, tokenisation=tool.tokenisation,
    )  # fmt: skip
    if tool.name.startswith("spark"):
        run.jvm_free_s = jvm_free_seconds(run_dir)
    log(
        f"{tool.name:16s} {corpus.size_mib:6g} MiB  {run.wall_s:8.1f} s  {run.mib_per_s:6.2f} MiB/s  "
        f"{run.peak_rss_mib:6.0f} MiB RSS"
    )
    return run, counts


def floor_and_end_to_end(workdir: Path) -> list[Run]:
    """The trivial spark-submit (the JVM floor) and the README's main command, cold and as a no-op."""
    script = workdir / "trivial.py"
    script.write_text(TRIVIAL_SCRIPT)
    runs = []
    trivial = measure([*spark_base(), str(script)])
    runs.append(Run("spark-trivial", 0, 0, round(trivial.wall_s, 2), 0, round(trivial.peak_rss_mib)))
    server = Server(static_mirror())
    try:
        store = workdir / "end-to-end"
        shutil.rmtree(store, ignore_errors=True)
        command = [LUIGI, "--module", "pipeline", "TopWordsSpark", *offline_flags(server.url, store)]
        for name in ("main-cold", "main-noop"):
            measured = measure(command)
            if measured.returncode != 0:
                sys.exit(f"{name}: `{' '.join(command)}` exited {measured.returncode}")
            runs.append(Run(name, 0, 0, round(measured.wall_s, 2), 0, round(measured.peak_rss_mib)))
    finally:
        server.close()
    for run in runs:
        log(f"{run.tool:16s} {run.wall_s:8.1f} s  {run.peak_rss_mib:6.0f} MiB RSS")
    return runs


@dataclass
class Report:
    mode: str
    command: str
    date: str
    machine: dict[str, str]
    runs: list[Run] = field(default_factory=list)
    targets: list[dict[str, object]] = field(default_factory=list)


def cpu_model() -> str:
    with open("/proc/cpuinfo") as handle:
        return next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "?")


def machine() -> dict[str, str]:
    with open("/proc/meminfo") as handle:
        mem_kib = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    import duckdb
    import mrjob
    import pyspark

    return {
        "cores": str(len(os.sched_getaffinity(0))),
        "memory": f"{mem_kib / MIB:.1f} GiB",
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "java": java[0] if java else "?",
        "spark": pyspark.__version__,
        "mrjob": mrjob.__version__,
        "duckdb": duckdb.__version__,
    }  # fmt: skip


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


def targets(runs: list[Run]) -> list[dict[str, object]]:
    """The issue's targets, each a ratio measured in this run (None where a tool did not run)."""

    def get(tool: str, size: float | None = None) -> Run | None:
        matches = [r for r in runs if r.tool == tool and (size is None or r.size_mib == size)]
        return matches[-1] if matches else None

    sizes = sorted({r.size_mib for r in runs if r.size_mib})
    top = sizes[-1] if sizes else 0
    result: list[dict[str, object]] = []

    def ratio(
        name: str,
        a: Run | None,
        b: Run | None,
        goal: float,
        value: Callable[[Run], float],
        higher: bool = True,
    ) -> None:
        if a is None or b is None:
            result.append({"target": name, "measured": None, "goal": goal, "met": None})
            return
        measured = value(a) / value(b)
        result.append(
            {
                "target": name,
                "measured": round(measured, 2),
                "goal": goal,
                "met": measured >= goal if higher else measured <= goal,
            }
        )

    speed = lambda r: r.mib_per_s  # noqa: E731
    ratio(
        f"1. Spark vs tr|sort|uniq at {top:g} MiB (throughput)",
        get("spark", top),
        get("tr-sort-uniq", top),
        1.0,
        speed,
    )
    ratio(
        f"1. Spark vs canonical example at {top:g} MiB",
        get("spark", top),
        get("spark-canonical", top),
        5.0,
        speed,
    )
    ratio(f"1. stretch: Spark vs DuckDB at {top:g} MiB", get("spark", top), get("duckdb", top), 1.0, speed)
    if len(sizes) >= 2:
        ratio(
            f"2. Spark time {sizes[-2]:g} -> {top:g} MiB",
            get("spark", top),
            get("spark", sizes[-2]),
            4.4,
            lambda r: r.wall_s,
            higher=False,
        )
    freq_size = max((r.size_mib for r in runs if r.tool == "freq-inline"), default=None)
    ratio(
        f"3. our mrjob vs mr_word_freq_count, inline, {freq_size:g} MiB" if freq_size else "3. mrjob inline",
        get("mrjob-inline", freq_size),
        get("freq-inline", freq_size),
        5.0,
        speed,
    )
    ratio(
        f"3. our mrjob vs mr_word_freq_count, local, {freq_size:g} MiB" if freq_size else "3. mrjob local",
        get("mrjob-local", freq_size),
        get("freq-local", freq_size),
        5.0,
        speed,
    )
    ratio(
        f"3. Hadoop engine vs our mrjob -r local at {top:g} MiB",
        get("hadoop", top),
        get("mrjob-local", top),
        1.0,
        speed,
    )
    ratio(
        "4. main command cold vs trivial spark-submit (time)",
        get("main-cold"),
        get("spark-trivial"),
        1.5,
        lambda r: r.wall_s,
        higher=False,
    )
    noop = get("main-noop")
    result.append(
        {
            "target": "4. no-op rerun (seconds)",
            "measured": noop.wall_s if noop else None,
            "goal": 3.0,
            "met": noop.wall_s <= 3.0 if noop else None,
        }
    )
    for tool, limit in (("mrjob-inline", 1024), ("mrjob-local", 1024), ("hadoop", 1024), ("spark", 3072)):
        run = get(tool, top)
        result.append(
            {
                "target": f"5. peak RSS of {tool} at {top:g} MiB (MiB)",
                "measured": run.peak_rss_mib if run else None,
                "goal": limit,
                "met": run.peak_rss_mib < limit if run else None,
            }
        )
    return result


def cell(text: str) -> str:
    """Text for a Markdown table cell (a `|` would end the cell, even inside backticks)."""
    return text.replace("|", "\\|")


def markdown(report: Report) -> str:
    m = report.machine
    lines = [
        f"Benchmark ({report.mode}), {report.date}: {m['cores']} cores, {m['memory']} ({m['cpu']}); "
        f"Python {m['python']}, {m['java']}, Spark {m['spark']}, mrjob {m['mrjob']}, DuckDB {m['duckdb']}.",
        f"Command: `{report.command}`. MiB/s is MiB of body text (the corpus's `text` column, UTF-8) per "
        "wall second; RSS is the peak summed resident memory of the whole process tree; x ours is the "
        "throughput over our Spark job's on the same corpus.",
        "",
        "| corpus | tool | tokenisation | wall s | MiB/s | x ours | peak RSS MiB | distinct words "
        "| same table as ours |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    ours = {r.size_mib: r for r in report.runs if r.tool == "spark"}
    for run in report.runs:
        if not run.size_mib:
            continue
        spark = ours.get(run.size_mib)
        x = f"{run.mib_per_s / spark.mib_per_s:.2f}" if spark else ""
        wall = f"{run.wall_s:.1f}" + (f" ({run.jvm_free_s:.1f} without JVM start)" if run.jvm_free_s else "")
        same = {True: "yes", False: "no", None: ""}[run.same_as_ours]
        lines.append(
            f"| {run.body_mib:.0f} MiB | {cell(run.label or run.tool)} | {cell(run.tokenisation)} | {wall} "
            f"| {run.mib_per_s:.2f} | {x} "
            f"| {run.peak_rss_mib:.0f} | {run.distinct_words or ''} | {same} |"
        )
    lines += ["", "| end to end (shared mirror, loopback) | wall s | peak RSS MiB |", "| --- | ---: | ---: |"]
    names = {
        "spark-trivial": "trivial spark-submit (JVM floor)",
        "main-cold": "README main command, cold",
        "main-noop": "README main command, no-op rerun",
    }
    for run in report.runs:
        if run.tool in names:
            lines.append(f"| {names[run.tool]} | {run.wall_s:.1f} | {run.peak_rss_mib:.0f} |")
    lines += ["", "| target | measured | goal | met |", "| --- | ---: | ---: | --- |"]
    for t in report.targets:
        met = {True: "yes", False: "**no**", None: "not run"}[t["met"]]  # type: ignore[index]
        lines.append(
            f"| {t['target']} | {t['measured'] if t['measured'] is not None else ''} | {t['goal']} | {met} |"
        )
    return "\n".join(lines) + "\n"


def plot(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name in dict.fromkeys(r.tool for r in report.runs if r.size_mib):
        runs = [r for r in report.runs if r.tool == name]
        ax.plot(
            [r.body_mib for r in runs],
            [r.mib_per_s for r in runs],
            marker="o",
            label=name,
            linewidth=3 if name == "spark" else 1.5,
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("corpus body text (MiB)")
    ax.set_ylabel("throughput (MiB/s, wall clock)")
    m = report.machine
    ax.set_title(f"Word count throughput, {m['cores']} cores, {m['memory']} ({report.date})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small corpus (CI smoke run)")
    parser.add_argument("--sizes", help="corpus sizes in MiB, comma-separated (default 64,256,1024)")
    parser.add_argument("--tools", help="comma-separated subset of the tools")
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
    workdir.mkdir(parents=True, exist_ok=True)
    all_tools = tools(workdir)
    chosen = [t for t in all_tools if not args.tools or t.name in args.tools.split(",")]
    report = Report(
        mode,
        "python benchmarks/bench.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        datetime.date.today().isoformat(),
        machine(),
    )
    books = mirror_books()
    server = Server(repeated_mirror(books_for(max(sizes), books), books))
    try:
        corpora = [build_corpus(size, books, store, server.url) for size in sizes]
    finally:
        server.close()
    if not args.no_end_to_end:
        report.runs += floor_and_end_to_end(workdir)
    for corpus in corpora:
        tables: dict[str, dict[str, int]] = {}
        runs = []
        for tool in chosen:
            if corpus.size_mib > tool.max_mib:
                continue
            run, counts = run_tool(tool, corpus, workdir)
            if tool.ours:
                tables[tool.name] = counts
            runs.append((run, counts))
        if tables:
            check_identical(tables, corpus.size_mib)
            reference = next(iter(tables.values()))
            for run, counts in runs:
                run.same_as_ours = counts == reference
        report.runs += [run for run, _ in runs]
        write(report, workdir)
    report.targets = targets(report.runs)
    write(report, workdir)
    print(markdown(report))
    return 0


def write(report: Report, workdir: Path) -> None:
    (workdir / "results.json").write_text(json.dumps(asdict(report), indent=2))
    (workdir / "results.md").write_text(markdown(report))
    if any(r.size_mib for r in report.runs):
        plot(report, workdir / "throughput.png")


if __name__ == "__main__":
    sys.exit(main())
