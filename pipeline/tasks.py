"""The Luigi tasks: TopBooks -> DownloadBook x N -> CorpusParquet -> WordCountSpark -> TopWordsSpark."""

from __future__ import annotations

import datetime
import itertools
import json
import logging
import operator
import os
import posixpath
import shutil
import sys
import tempfile
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import luigi
from luigi.contrib.spark import SparkSubmitTask

import jobs
from jobs import textrules
from pipeline import gutenberg as gb
from pipeline import report, storage
from pipeline.config import gutenberg, spark

logger = logging.getLogger("luigi-interface")

JOBS_DIR = Path(jobs.__file__).resolve().parent
CONF_DIR = JOBS_DIR.parent / "conf"
CORPUS_MANIFEST = "_books.json"  # leading underscore: Spark and pyarrow skip it when reading the dataset
CORPUS_PART_BYTES = 128 * 1024 * 1024


def _date() -> luigi.DateParameter:
    return luigi.DateParameter(
        default=datetime.date.today(), description="day the top list is fetched (one list per day)"
    )


def _period() -> luigi.ChoiceParameter:
    return luigi.ChoiceParameter(
        choices=list(gb.PERIOD_SECTIONS), default="yesterday", description="yesterday, last7 or last30"
    )


def _count(default: int, minimum: int, description: str, significant: bool = True) -> luigi.Parameter:
    return luigi.NumericalParameter(
        var_type=int,
        min_value=minimum,
        max_value=1_000_000_000,
        left_op=operator.le,
        right_op=operator.le,
        default=default,
        significant=significant,
        description=description,
    )


def client() -> gb.Client:
    """A Gutenberg HTTP client configured from [gutenberg]."""
    cfg = gutenberg()
    return gb.Client(
        user_agent=cfg.user_agent,
        delay_seconds=cfg.delay_seconds,
        connect_timeout=cfg.connect_timeout,
        read_timeout=cfg.read_timeout,
        max_attempts=cfg.max_attempts,
        backoff_seconds=cfg.backoff_seconds,
        max_backoff_seconds=cfg.max_backoff_seconds,
        max_bytes=cfg.max_bytes,
    )


def host_resource() -> dict[str, int]:
    """One Luigi resource per Gutenberg host; `[resources] gutenberg_<host> = N` allows N at once."""
    host = urllib.parse.urlsplit(gutenberg().base_url).hostname or "unknown"
    return {f"gutenberg_{host}": 1}


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


class TopBooks(luigi.Task):
    """The ranked top-books list of one day and period, as JSON under top_books/."""

    date = _date()
    period = _period()
    n_books = _count(10, 1, "books the run needs (the list keeps every entry)", significant=False)

    @property
    def resources(self) -> dict[str, int]:
        return host_resource()

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.top_books_path(self.date, self.period))

    def run(self) -> None:
        url = gb.top_page_url(gutenberg().base_url)
        self.set_status_message(f"Fetching {url}")
        page = client().get(url).decode("utf-8", errors="replace")
        books = gb.parse_top_page(page, self.period, source=url)
        if len(books) < self.n_books:
            logger.warning(
                "%s lists %d books for %s; %d asked for", url, len(books), self.period, self.n_books
            )
        payload = {
            "date": self.date.isoformat(),
            "period": self.period,
            "source": url,
            "fetched_at": _utc_now(),
            "books": [book.to_json() for book in books],
        }
        report.write_json(self.output(), payload)


class DownloadBook(luigi.Task):
    """One book's plain text exactly as served, under raw/<id>/; raw/<id>/missing.json if 404 everywhere."""

    book_id = _count(1, 1, "Project Gutenberg ebook number")

    @property
    def resources(self) -> dict[str, int]:
        return host_resource()

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.raw_book_path(self.book_id), binary=True)

    def missing(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.missing_book_path(self.book_id))

    def complete(self) -> bool:
        return self.output().exists() or self.missing().exists()

    def run(self) -> None:
        http = client()
        tried = []
        for url in gb.book_urls(gutenberg().base_url, self.book_id):
            self.set_status_message(f"GET {url}")
            try:
                data = http.get(url, progress=f"pg{self.book_id}")
            except gb.NotFoundError:
                tried.append(url)
                continue
            if not data:
                raise gb.GutenbergError(f"book {self.book_id}: {url}: empty response")
            if gb.looks_like_html(data):
                raise gb.GutenbergError(f"book {self.book_id}: {url}: HTML page, not plain text")
            with self.output().open("w") as handle:
                handle.write(data)
            logger.info("book %d: %d bytes from %s", self.book_id, len(data), url)
            return
        logger.warning("book %d: not found (404) at %s; skipped", self.book_id, ", ".join(tried))
        report.write_json(self.missing(), {"book_id": self.book_id, "tried": tried, "checked_at": _utc_now()})


class CorpusTask(luigi.Task):
    """Parameters shared by everything that depends on one corpus."""

    date = _date()
    period = _period()
    n_books = _count(10, 1, "how many of the top books to use")

    def corpus_params(self) -> dict[str, Any]:
        return {"date": self.date, "period": self.period, "n_books": self.n_books}


class CorpusParquet(CorpusTask):
    """The decoded, normalised, stripped books as a Parquet dataset under corpus/ (+ _books.json)."""

    def requires(self) -> TopBooks:
        return TopBooks(**self.corpus_params())

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.corpus_path(self.date, self.period, self.n_books))

    def run(self) -> Any:
        with self.input().open("r") as handle:
            top = json.load(handle)
        ranked = [gb.RankedBook(**book) for book in top["books"]]
        candidates = iter(ranked)
        chosen: list[gb.RankedBook] = []
        skipped: list[gb.RankedBook] = []
        # Dynamic dependencies: a book that is 404 everywhere is replaced by the next one on the list.
        while len(chosen) < self.n_books:
            batch = list(itertools.islice(candidates, self.n_books - len(chosen)))
            if not batch:
                raise gb.GutenbergError(
                    f"{top['source']}: only {len(chosen)} of the {self.n_books} books asked for are available"
                    f" ({len(ranked)} listed for {self.period}, {len(skipped)} not found)"
                )
            self.set_status_message(f"Downloading {len(batch)} books ({len(chosen)}/{self.n_books} ready)")
            downloads = [DownloadBook(book_id=book.book_id) for book in batch]
            yield downloads
            for book, task in zip(batch, downloads, strict=True):
                (chosen if task.output().exists() else skipped).append(book)
        self.set_progress_percentage(50)
        rows = []
        for i, book in enumerate(chosen, start=1):
            self.set_status_message(f"Decoding and stripping book {book.book_id} ({i}/{len(chosen)})")
            with DownloadBook(book_id=book.book_id).output().open("r") as handle:
                parsed = textrules.read_book(handle.read())
            rows.append(_corpus_row(book, parsed))
            self.set_progress_percentage(50 + 45 * i // len(chosen))
        manifest = {
            "date": self.date.isoformat(),
            "period": self.period,
            "n_books": self.n_books,
            "source": top["source"],
            "books": [{k: v for k, v in row.items() if k != "text"} for row in rows],
            "skipped": [book.to_json() for book in skipped],
        }
        with self.output().temporary_path() as tmp:
            _write_corpus(tmp, rows, manifest)
        self.set_progress_percentage(100)


def _corpus_row(book: gb.RankedBook, parsed: textrules.Book) -> dict[str, Any]:
    return {
        "book_id": book.book_id,
        "rank": book.rank,
        "title": book.title,
        "author": book.author,
        "language": parsed.language,
        "encoding": parsed.encoding,
        "start_marker": parsed.start_marker,
        "end_marker": parsed.end_marker,
        "raw_bytes": parsed.raw_bytes,
        "raw_lines": parsed.raw_lines,
        "body_lines": parsed.body_lines,
        "body_chars": len(parsed.body),
        "text": parsed.body,
    }


def corpus_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("book_id", pa.int64()),
            ("rank", pa.int32()),
            ("title", pa.string()),
            ("author", pa.string()),
            ("language", pa.string()),
            ("encoding", pa.string()),
            ("start_marker", pa.bool_()),
            ("end_marker", pa.bool_()),
            ("raw_bytes", pa.int64()),
            ("raw_lines", pa.int64()),
            ("body_lines", pa.int64()),
            ("body_chars", pa.int64()),
            ("text", pa.string()),
        ]
    )


def _write_corpus(dest: str, rows: list[dict[str, Any]], manifest: dict[str, Any]) -> None:
    """Parquet parts of at most CORPUS_PART_BYTES of text, one row group per book, plus the manifest."""
    if storage.is_hdfs(dest):
        with tempfile.TemporaryDirectory() as local:
            staged = os.path.join(local, "corpus")
            _write_corpus(staged, rows, manifest)
            storage.target(dest).fs.put(staged, dest)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(dest)
    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    for row in rows:
        if parts[-1] and size + len(row["text"]) > CORPUS_PART_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(row)
        size += len(row["text"])
    for index, part in enumerate(parts):
        table = pa.Table.from_pylist(part, schema=corpus_schema())
        pq.write_table(table, os.path.join(dest, f"part-{index:05d}.parquet"), row_group_size=1)
    with open(os.path.join(dest, CORPUS_MANIFEST), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)


def _local_uri(path: str) -> str:
    """Absolute file:// URI for local paths, so Spark never resolves them against a default HDFS."""
    return path if "://" in path else Path(path).resolve().as_uri()


def default_spark_submit() -> str:
    beside_python = Path(sys.executable).parent / "spark-submit"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("spark-submit") or "spark-submit"


def spark_driver_java_options() -> str:
    """The project's log4j2 setup at `[spark] log_level`, for every spark-submit the pipeline starts."""
    log_conf = (CONF_DIR / "log4j2.properties").as_uri()
    return f"-Dlog4j2.configurationFile={log_conf} -Dgutenberg.log.level={spark().log_level}"


class WordCountSpark(CorpusTask, SparkSubmitTask):
    """Every word of one corpus with its count, by jobs/word_count.py: Parquet under word_counts/spark/."""

    name = "gutenberg-wordcount"
    app = str(JOBS_DIR / "word_count.py")
    engine = "spark"

    def requires(self) -> CorpusParquet:
        return CorpusParquet(**self.corpus_params())

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.word_counts_path(self.engine, self.date, self.period, self.n_books))

    def run(self) -> None:
        self.set_status_message(f"spark-submit on {self.master}")
        with self.output().temporary_path() as tmp:
            self._output_tmp = tmp
            super().run()

    def app_options(self) -> list[str]:
        return [_local_uri(self.input().path), _local_uri(self._output_tmp)]

    def read_counts(self) -> list[tuple[str, int]]:
        return read_word_counts(self.output().path)

    @property
    def spark_submit(self) -> str:
        return spark().spark_submit or default_spark_submit()

    @property
    def master(self) -> str:
        return spark().master

    @property
    def deploy_mode(self) -> str | None:
        return spark().deploy_mode or None

    @property
    def driver_memory(self) -> str | None:
        return spark().driver_memory or None

    @property
    def executor_memory(self) -> str | None:
        return spark().executor_memory or None

    @property
    def py_files(self) -> list[str]:
        extra = [p.strip() for p in spark().py_files.split(",") if p.strip()]
        return [str(JOBS_DIR / "textrules.py"), *extra]

    @property
    def conf(self) -> dict[str, str]:
        return self._dict_config(spark().conf) or {}

    @property
    def pyspark_driver_python(self) -> str | None:
        # spark-submit would otherwise run the driver with whatever `python3` is first on PATH.
        return None if "spark.pyspark.driver.python" in self.conf else sys.executable

    @property
    def pyspark_python(self) -> str | None:
        if "spark.pyspark.python" in self.conf or not self.master.startswith("local"):
            return None
        return sys.executable

    @property
    def driver_java_options(self) -> str:
        return spark_driver_java_options()


class TopWords(CorpusTask):
    """Base of the TopWords<Engine> tasks: the report of one engine's word counts."""

    n_words = _count(50, 0, "how many words to report; 0 for all")
    stopwords = luigi.Parameter(default="english", description="english, none, or a one-word-a-line file")

    engine = ""

    def word_count_task(self) -> luigi.Task:
        raise NotImplementedError

    def requires(self) -> luigi.Task:
        return self.word_count_task()

    def output(self) -> dict[str, luigi.target.FileSystemTarget]:
        prefix = storage.top_words_prefix(
            self.engine, self.date, self.period, self.n_books, self.n_words, self.stopwords
        )
        return {
            "csv": storage.target(prefix + ".csv"),
            "json": storage.target(prefix + ".json"),
            "png": storage.target(prefix + ".png", binary=True),
        }

    def run(self) -> None:
        self.set_status_message("Ranking words")
        counts = self.requires().read_counts()
        rows = report.rank_words(counts, textrules.load_stopwords(self.stopwords), self.n_words)
        corpus = read_corpus_manifest(CorpusParquet(**self.corpus_params()).output().path)
        outputs = self.output()
        payload = {
            "engine": self.engine,
            "date": self.date.isoformat(),
            "period": self.period,
            "n_books": self.n_books,
            "n_words": self.n_words,
            "stopwords": self.stopwords,
            "tokens": sum(c for _, c in counts),
            "distinct_words": len(counts),
            "books": corpus["books"],
            "skipped": corpus["skipped"],
            "words": [{"rank": r, "word": w, "count": c} for r, w, c in rows],
        }
        report.write_csv(outputs["csv"], rows)
        report.write_json(outputs["json"], payload)
        report.write_chart(outputs["png"], rows, self.chart_title())
        self.set_progress_percentage(100)
        print(self.summary(payload), flush=True)

    def chart_title(self) -> str:
        return f"Top words in the {self.n_books} most downloaded Gutenberg books ({self.period}, {self.date})"

    def summary(self, payload: dict[str, Any]) -> str:
        """The table and facts printed at the end of a run."""
        rows = [(w["rank"], w["word"], w["count"]) for w in payload["words"]]
        outputs = self.output()
        books = ", ".join(str(b["book_id"]) for b in payload["books"])
        skipped = ", ".join(f"{b['book_id']} ({b['title']})" for b in payload["skipped"]) or "none"
        lines = [
            "",
            f"Top {len(rows)} words ({self.engine}; stop words: {self.stopwords}) in "
            f"{len(payload['books'])} books, {self.period} list of {self.date}:",
            "",
            report.format_table(rows),
            "",
            f"tokens {payload['tokens']:,}, distinct words {payload['distinct_words']:,}",
            f"books used: {books}",
            f"books skipped: {skipped}",
            *(f"{kind:>4}: {target.path}" for kind, target in outputs.items()),
            "",
        ]
        return "\n".join(lines)


def write_word_counts(target: luigi.target.FileSystemTarget, counts: Iterable[tuple[str, int]]) -> None:
    """A word-count Parquet directory like the Spark job's: one file, by count descending then word."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = sorted(counts, key=lambda pair: (-pair[1], pair[0]))
    table = pa.table(
        {"word": [w for w, _ in rows], "count": [c for _, c in rows]},
        schema=pa.schema([("word", pa.string()), ("count", pa.int64())]),
    )
    with target.temporary_path() as tmp:
        if storage.is_hdfs(tmp):
            with tempfile.TemporaryDirectory() as local:
                pq.write_table(table, os.path.join(local, "part-00000.parquet"))
                target.fs.put(local, tmp)
        else:
            os.makedirs(tmp)
            pq.write_table(table, os.path.join(tmp, "part-00000.parquet"))


def read_word_counts(path: str) -> list[tuple[str, int]]:
    """(word, count) pairs from a word-count Parquet directory (local or hdfs://)."""
    import pyarrow.parquet as pq

    with storage.local_copy(path) as local:
        table = pq.read_table(local, columns=["word", "count"])
    return list(zip(table.column("word").to_pylist(), table.column("count").to_pylist(), strict=True))


def read_corpus_manifest(corpus_dir: str) -> dict[str, Any]:
    with storage.target(posixpath.join(corpus_dir, CORPUS_MANIFEST)).open("r") as handle:
        return json.load(handle)


class TopWordsSpark(TopWords):
    """Top words of the corpus counted by Spark: CSV, JSON and PNG under top_words/spark/."""

    engine = "spark"

    def word_count_task(self) -> WordCountSpark:
        return WordCountSpark(**self.corpus_params())


@TopWords.event_handler(luigi.Event.DEPENDENCY_PRESENT)
def _print_existing_report(task: TopWords) -> None:
    """A rerun with nothing to do still shows the table it made before."""
    with task.output()["json"].open("r") as handle:
        print(task.summary(json.load(handle)), flush=True)


@luigi.Task.event_handler(luigi.Event.FAILURE)
def _print_failure(task: luigi.Task, exception: BaseException) -> None:
    """One line naming the task and the cause, after Luigi's traceback."""
    message = " ".join(str(exception).split()) or type(exception).__name__
    if len(message) > 400:
        message = message[:400] + "..."
    print(f"ERROR: {task}: {message}", file=sys.stderr, flush=True)
