"""The Luigi tasks: TopBooks -> DownloadBook x N -> CorpusParquet -> WordCountSpark -> TopWordsSpark."""

from __future__ import annotations

import collections
import datetime
import hashlib
import itertools
import json
import logging
import operator
import os
import posixpath
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import luigi
from luigi.contrib.external_program import ExternalProgramRunContext, ExternalProgramRunError
from luigi.contrib.spark import SparkSubmitTask
from luigi.parameter import ParameterVisibility

import jobs
from jobs import textrules
from pipeline import gutenberg as gb
from pipeline import htmlreport, report, storage
from pipeline.config import gutenberg, spark

logger = logging.getLogger("luigi-interface")

JOBS_DIR = Path(jobs.__file__).resolve().parent
CONF_DIR = JOBS_DIR.parent / "conf"
CORPUS_MANIFEST = "_books.json"  # leading underscore: Spark and pyarrow skip it when reading the dataset
CORPUS_PART_BYTES = 128 * 1024 * 1024


# The parameters every task shares refuse bad values when parsed from the command line and when passed
# from code (`normalize`), with a message naming the value and the rule: `import pipeline` turns the error
# into one line `ERROR: --name: message` (pipeline/__init__.py). Book ids become paths and URLs, so they
# are checked before anything else sees them.
_DECIMAL = re.compile(r"[+-]?[0-9]+")


class _DateParameter(luigi.DateParameter):
    def parse(self, s: str) -> datetime.date:
        try:
            return super().parse(s)
        except ValueError:
            raise ValueError(f"{s!r} is not a date (YYYY-MM-DD)") from None

    def normalize(self, x: Any) -> datetime.date:
        if isinstance(x, datetime.datetime):
            x = x.date()
        if not isinstance(x, datetime.date):
            raise ValueError(f"{x!r} is not a date (YYYY-MM-DD)")
        return super().normalize(x)


class _PeriodParameter(luigi.ChoiceParameter):
    def normalize(self, x: Any) -> str:
        if not isinstance(x, str) or x not in gb.PERIOD_SECTIONS:
            raise ValueError(f"{x!r} is not one of {', '.join(gb.PERIOD_SECTIONS)}")
        return x


class _CountParameter(luigi.NumericalParameter):
    """An int in [min_value, max_value]; plain decimal digits only on the command line, ints only in code."""

    def parse(self, x: str) -> int:
        if not _DECIMAL.fullmatch(x.strip()):
            raise ValueError(f"{x!r} is not an integer")
        return self.normalize(int(x))

    def normalize(self, x: Any) -> int:
        if isinstance(x, bool) or not isinstance(x, int):
            raise ValueError(f"{x!r} is not an integer")
        if not self._min_value <= x <= self._max_value:
            raise ValueError(f"{x} is not in [{self._min_value}, {self._max_value}]")
        return x


def _date() -> luigi.DateParameter:
    return _DateParameter(
        default=datetime.date.today(), description="day the top list is fetched (one list per day)"
    )


def _period() -> luigi.ChoiceParameter:
    return _PeriodParameter(
        choices=list(gb.PERIOD_SECTIONS), default="yesterday", description="yesterday, last7 or last30"
    )


def _count(default: int, minimum: int, description: str, significant: bool = True) -> luigi.Parameter:
    return _CountParameter(
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
        max_seconds=cfg.max_seconds,
        base_url=cfg.base_url,
        allowed_hosts=cfg.allowed_hosts,
    )


def host_resource() -> dict[str, int]:
    """One Luigi resource per Gutenberg host; `[resources] gutenberg_<host> = N` allows N at once."""
    host = urllib.parse.urlsplit(gutenberg().base_url).hostname or "unknown"
    return {f"gutenberg_{host}": 1}


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


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
        if self.date != datetime.date.today():
            # Gutenberg serves only the current list: a past day's list exists only if a run fetched it then.
            logger.warning("TopBooks: the list served now is filed under %s (not today)", self.date)
        self.set_status_message(f"Fetching {url}")
        self.set_progress_percentage(0)
        page = client().get(url).decode("utf-8", errors="replace")
        self.set_status_message(f"Reading the {self.period} list")
        self.set_progress_percentage(50)
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
        self.set_status_message(f"{len(books)} books listed for {self.period}")
        self.set_progress_percentage(100)


class DownloadBook(luigi.Task):
    """One book's plain text exactly as served, under raw/<id>/; raw/<id>/missing.json if 404 everywhere."""

    book_id = _count(1, 1, "Project Gutenberg ebook number")
    # Not part of the task's identity: the books fetched together with this one, so that its progress
    # bar and log line can say "book 4 of 10" whichever worker process runs it.
    batch = luigi.ListParameter(
        default=(),
        significant=False,
        visibility=ParameterVisibility.HIDDEN,
        description="ids fetched together",
    )

    @property
    def resources(self) -> dict[str, int]:
        return host_resource()

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.raw_book_path(self.book_id), binary=True)

    def missing(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.missing_book_path(self.book_id))

    def record(self) -> luigi.target.FileSystemTarget:
        """Size and SHA-256 of the download, written after the book: a book without it is re-fetched."""
        return storage.target(storage.download_record_path(self.book_id))

    def complete(self) -> bool:
        if self.missing().exists():
            return True
        if not self.output().exists():
            return False
        problem = self.verify()
        if problem:
            logger.warning("%s; downloading it again", problem)
            return False
        return True

    def verify(self) -> str | None:
        """Why the raw file on disk is not the one downloaded (truncated, edited, unrecorded), or None."""
        path = self.output().path
        if not self.record().exists():
            return f"{path}: no download record ({self.record().path}), so it may be incomplete"
        with self.record().open("r") as handle:
            expected = json.load(handle)
        with self.output().open("r") as handle:
            data = handle.read()
        if len(data) != expected["bytes"] or hashlib.sha256(data).hexdigest() != expected["sha256"]:
            return f"{path}: {len(data)} bytes on disk, {expected['bytes']} downloaded (checksum differs)"
        return None

    def position(self) -> tuple[int, int]:
        """(this book's number among its batch, batch size): books of the batch already on disk + 1."""
        ids = {int(i) for i in self.batch} | {self.book_id}
        raw = storage.join("raw")
        if storage.is_hdfs(raw) or not os.path.isdir(raw):
            return 1, len(ids)
        present = {int(name) for name in os.listdir(raw) if name.isdigit()}
        return len((present & ids) - {self.book_id}) + 1, len(ids)

    def run(self) -> None:
        http = client()
        tried = []
        number, total = self.position()
        label = f"[{number}/{total}] pg{self.book_id}"
        shown = [-10]

        def on_bytes(received: int, length: int | None) -> None:
            # Every change is a call to the scheduler: report in steps of 10%.
            percent = 100 * received // length if length else 0
            if percent >= shown[0] + 10:
                shown[0] = percent
                self.set_progress_percentage(min(percent, 99))

        for url in gb.book_urls(gutenberg().base_url, self.book_id):
            self.set_status_message(f"book {number} of {total}: GET {url}")
            started = time.monotonic()
            try:
                data = http.get(url, progress=label, on_bytes=on_bytes)
            except gb.NotFoundError:
                tried.append(url)
                continue
            if not data:
                raise gb.GutenbergError(f"book {self.book_id}: {url}: empty response")
            if gb.looks_like_html(data):
                raise gb.GutenbergError(f"book {self.book_id}: {url}: HTML page, not plain text")
            with self.output().open("w") as handle:
                handle.write(data)
            record = {"url": url, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            report.write_json(self.record(), {**record, "fetched_at": _utc_now()})
            seconds = max(time.monotonic() - started, 1e-6)
            logger.info(
                "book %d (%d of %d): %s bytes in %.1f s (%s/s) from %s",
                self.book_id,
                number,
                total,
                f"{len(data):,}",
                seconds,
                _human_bytes(len(data) / seconds),
                url,
            )
            self.set_status_message(f"book {number} of {total}: {len(data):,} bytes")
            self.set_progress_percentage(100)
            return
        logger.warning("book %d: not found (404) at %s; skipped", self.book_id, ", ".join(tried))
        report.write_json(self.missing(), {"book_id": self.book_id, "tried": tried, "checked_at": _utc_now()})


class CatalogRecord(luigi.Task):
    """The language codes of a book's catalogue record, as raw/<id>/catalog.json (empty if it has none).

    Asked for only for books whose header has no `Language:` line.
    """

    book_id = _count(1, 1, "Project Gutenberg ebook number")

    @property
    def resources(self) -> dict[str, int]:
        return host_resource()

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.catalog_record_path(self.book_id))

    def run(self) -> None:
        url = gb.catalog_url(gutenberg().base_url, self.book_id)
        self.set_status_message(f"GET {url}")
        try:
            languages = gb.catalog_languages(client().get(url))
        except gb.NotFoundError:
            languages = []
            logger.warning(
                "book %d: no catalogue record at %s; its language stays unknown", self.book_id, url
            )
        report.write_json(
            self.output(),
            {"book_id": self.book_id, "url": url, "languages": languages, "fetched_at": _utc_now()},
        )
        self.set_status_message(f"languages: {', '.join(languages) or 'none'}")
        self.set_progress_percentage(100)

    def languages(self) -> list[str]:
        with self.output().open("r") as handle:
            return json.load(handle)["languages"]


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
        rows: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        # Dynamic dependencies: a book that is 404 everywhere, binary, or without a word once stripped is
        # replaced by the next one on the list. Luigi restarts run() after each batch it had to download,
        # so the books of earlier batches are read again then, and warnings wait for the final pass.
        while len(rows) < self.n_books:
            batch = list(itertools.islice(candidates, self.n_books - len(rows)))
            if not batch:
                raise gb.GutenbergError(
                    f"{top['source']}: only {len(rows)} of the {self.n_books} books asked for are usable"
                    f" ({len(ranked)} listed for {self.period}, {len(skipped)} skipped)"
                )
            valid: list[gb.RankedBook] = []
            for book in batch:
                try:
                    DownloadBook.book_id.normalize(book.book_id)
                    valid.append(book)
                except ValueError as exc:  # an id that is not a positive int never reaches a path or URL
                    skipped.append(_skipped(book, f"invalid book id: {exc}"))
            ids = tuple(book.book_id for book in valid)
            downloads = [(book, DownloadBook(book_id=book.book_id, batch=ids)) for book in valid]
            self.set_status_message(f"Downloading {len(downloads)} books ({len(rows)}/{self.n_books} ready)")
            yield [task for _, task in downloads]
            new_rows: list[dict[str, Any]] = []
            for book, task in downloads:
                if not task.output().exists():
                    skipped.append(book.to_json())  # 404 everywhere: raw/<id>/missing.json says where
                    continue
                self.set_status_message(f"Decoding and stripping book {book.book_id}")
                row, reason = _read_downloaded(book, task)
                if reason is not None:
                    skipped.append(_skipped(book, reason))
                else:
                    new_rows.append(row)
                self.set_progress_percentage(95 * (len(rows) + len(new_rows)) // self.n_books)
            # A header without `Language:`: the catalogue record says (its codes, "fr" or "fr, en").
            unknown = [row for row in new_rows if row["language"] == "unknown"]
            if unknown:
                self.set_status_message(f"Looking up the language of {len(unknown)} books")
                records = [CatalogRecord(book_id=row["book_id"]) for row in unknown]
                yield records
                for row, record in zip(unknown, records, strict=True):
                    row["language"] = ", ".join(record.languages()) or "unknown"
            rows += new_rows
        for entry in (e for e in skipped if "reason" in e):
            logger.warning("book %s (rank %d): %s; skipped", entry["book_id"], entry["rank"], entry["reason"])
        manifest = {
            "date": self.date.isoformat(),
            "period": self.period,
            "n_books": self.n_books,
            "source": top["source"],
            "books": [{k: v for k, v in row.items() if k != "text"} for row in rows],
            "skipped": skipped,
        }
        self.set_status_message(f"Writing {len(rows)} books as Parquet")
        with self.output().temporary_path() as tmp:
            _write_corpus(tmp, rows, manifest)
        self.set_status_message(
            f"{len(rows)} books, {sum(r['body_chars'] for r in rows):,} characters; {len(skipped)} skipped"
        )
        self.set_progress_percentage(100)


def _skipped(book: gb.RankedBook, reason: str) -> dict[str, Any]:
    """A manifest `skipped` entry for a book that was downloaded (or refused) but cannot be counted."""
    return {**book.to_json(), "reason": reason}


def _read_downloaded(book: gb.RankedBook, task: DownloadBook) -> tuple[dict[str, Any], str | None]:
    """The corpus row of a downloaded book, or why it is skipped (binary, no words: see the text rules)."""
    with task.output().open("r") as handle:
        data = handle.read()
    reason = textrules.binary_reason(data)
    if reason is not None:
        return {}, reason
    parsed = textrules.read_book(data)
    return _corpus_row(book, parsed), textrules.no_words_reason(parsed)


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
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    for row in rows:
        if parts[-1] and size + len(row["text"]) > CORPUS_PART_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(row)
        size += len(row["text"])
    with storage.local_output_dir(dest) as local:
        for index, part in enumerate(parts):
            table = pa.Table.from_pylist(part, schema=corpus_schema())
            pq.write_table(table, os.path.join(local, f"part-{index:05d}.parquet"), row_group_size=1)
        with open(os.path.join(local, CORPUS_MANIFEST), "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, ensure_ascii=False, indent=2)


def _local_uri(path: str) -> str:
    """Absolute file:// URI for local paths, so Spark never resolves them against a default HDFS."""
    return path if "://" in path else Path(path).resolve().as_uri()


def default_spark_submit() -> str:
    beside_python = Path(sys.executable).parent / "spark-submit"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("spark-submit") or "spark-submit"


ANALYSIS_PARTS = ("books", "book_words", "growth")
SPARK_WARNING_RE = re.compile(r"^\d\d:\d\d:\d\d (WARN|ERROR) ")


class _SparkProgress:
    """Turns the Spark job's stderr lines into task progress, status messages and log lines."""

    def __init__(self, task: luigi.Task) -> None:
        # Imported here, not at the top: jobs.word_count imports pyspark, which a no-op run never needs.
        from jobs.word_count import PROGRESS_PREFIX, UI_PREFIX

        self.progress = re.compile(re.escape(PROGRESS_PREFIX) + r"(\d+)% (.*)$")
        self.task = task
        # The job prints its UI address; in cluster mode the driver is remote and spark-submit prints the
        # cluster manager's tracking URL instead.
        self.tracking_url = re.compile(rf"(?:{re.escape(UI_PREFIX)}|tracking URL: )(https?://\S+)")
        self.url_seen = False
        self.percent = -1
        self.logged = -10

    def feed(self, line: str) -> bool:
        """Acts on `line`; True if it was a progress line (not worth keeping for an error message)."""
        match = self.progress.search(line)  # Spark's console bar may precede it on the line
        if match is not None:
            percent, message = int(match.group(1)), match.group(2)
            if percent != self.percent:
                self.percent = percent
                self.task.set_progress_percentage(percent)
            self.task.set_status_message(f"Spark: {message}")
            # A log line per 10% keeps a terminal or a log file readable; the visualiser gets every step.
            if percent >= self.logged + 10 or percent == 100:
                self.logged = percent
                logger.info("%s: %d%% %s", self.task.task_family, percent, message)
            return True
        if not self.url_seen:
            found = self.tracking_url.search(line)
            if found is not None:
                self.url_seen = True
                self.task.set_tracking_url(found.group(1))
                logger.info("%s: Spark UI at %s", self.task.task_family, found.group(1))
        if SPARK_WARNING_RE.match(line):
            print(line, file=sys.stderr, flush=True)
        return False


def spark_driver_java_options() -> str:
    """log4j2 setup at `[spark] log_level` plus `[spark] java_options`, for every spark-submit."""
    log_conf = (CONF_DIR / "log4j2.properties").as_uri()
    options = f"-Dlog4j2.configurationFile={log_conf} -Dgutenberg.log.level={spark().log_level}"
    return f"{options} {spark().java_options}".strip()


class WordCountSpark(CorpusTask, SparkSubmitTask):
    """Every word of one corpus with its count, by jobs/word_count.py: Parquet under word_counts/spark/."""

    name = "gutenberg-wordcount"
    app = str(JOBS_DIR / "word_count.py")
    engine = "spark"

    def requires(self) -> CorpusParquet:
        return CorpusParquet(**self.corpus_params())

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.word_counts_path(self.engine, self.date, self.period, self.n_books))

    def analysis_path(self) -> str:
        """The per-book analysis the job writes inside its output (skipped by readers of the counts)."""
        from jobs.word_count import ANALYSIS_DIR

        return posixpath.join(self.output().path, ANALYSIS_DIR)

    def complete(self) -> bool:
        marker = posixpath.join(self.analysis_path(), ANALYSIS_PARTS[-1], "_SUCCESS")
        return super().complete() and storage.target(marker).exists()

    def run(self) -> None:
        check_parquet_dir(self.input().path, "corpus")
        if self.output().exists():
            # Counts from before the job wrote a per-book analysis: incomplete, so they are redone.
            logger.warning("%s has no per-book analysis; counting again", self.output().path)
            self.output().fs.remove(self.output().path)
        self.set_status_message(f"spark-submit on {self.master}")
        self.set_progress_percentage(0)
        with self.output().temporary_path() as tmp:
            self._output_tmp = tmp
            self._submit()
        self.set_progress_percentage(100)

    def app_options(self) -> list[str]:
        return [_local_uri(self.input().path), _local_uri(self._output_tmp), "--analysis"]

    def _submit(self) -> None:
        """spark-submit, reading its stderr as it comes: progress, tracking URL, Spark's warnings.

        Luigi's own runner keeps stderr until the end and looks for the tracking URL in a separate
        process, whose callbacks never reach a local scheduler; here a thread does it all live.
        """
        args = [str(a) for a in self.program_args()]
        env = self.program_environment()
        logger.info("Running command: %s", " ".join(args))
        tail: collections.deque[str] = collections.deque(maxlen=400)
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out: list[bytes] = []
        reader = threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)
        reader.start()
        with ExternalProgramRunContext(proc):
            progress = _SparkProgress(self)
            for raw in iter(proc.stderr.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if not progress.feed(line):
                    tail.append(line)
            proc.wait()
        reader.join()
        stdout = b"".join(out).decode("utf-8", errors="replace")
        if stdout:
            logger.info("Program stdout:\n%s", stdout)
        if proc.returncode != 0:
            raise ExternalProgramRunError(
                f"Program failed with return code={proc.returncode}:",
                args,
                env=env,
                stdout=stdout,
                stderr="\n".join(tail),
            )

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
    """Base of the TopWords<Engine> tasks: one engine's top words as CSV, JSON, PNG and an HTML report."""

    n_words = _count(50, 0, "how many words to report; 0 for all")
    stopwords = luigi.Parameter(default="english", description="english, none, or a one-word-a-line file")

    engine = ""

    def word_count_task(self) -> luigi.Task:
        raise NotImplementedError

    def analysis(self) -> dict[str, list[dict[str, Any]]] | None:
        """The engine's per-book analysis (books, book_words, growth rows), or None if it has none."""
        return None

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
            "html": storage.target(prefix + ".html"),
        }

    def run(self) -> None:
        started = time.monotonic()
        self.set_status_message("Reading the word counts")
        self.set_progress_percentage(0)
        counts = self.requires().read_counts()
        rows = report.rank_words(counts, textrules.load_stopwords(self.stopwords), self.n_words)
        corpus = read_corpus_manifest(CorpusParquet(**self.corpus_params()).output().path)
        self.set_status_message("Fitting Zipf's and Heaps' laws")
        self.set_progress_percentage(30)
        by_count = sorted((c for _, c in counts), reverse=True)
        zipf = report.zipf_fit(by_count)
        analysis = self.analysis()
        growth = [(g["tokens"], g["distinct_words"]) for g in analysis["growth"]] if analysis else []
        heaps = report.heaps_fit(growth) if analysis else None
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
            "zipf": zipf.to_json() if zipf else None,
            "heaps": heaps.to_json() if heaps else None,
            "growth": [[n, v] for n, v in growth],
            "book_stats": _book_stats(corpus, analysis) if analysis else None,
            "outputs": {kind: target.path for kind, target in self.all_outputs().items()},
        }
        self.set_status_message("Writing the CSV, JSON and charts")
        self.set_progress_percentage(50)
        report.write_csv(outputs["csv"], rows)
        report.write_json(outputs["json"], payload)
        charts = {
            "top_words": report.chart_png(rows, self.chart_title()),
            "zipf": report.zipf_png(by_count, zipf),
        }
        report.write_png(outputs["png"], charts["top_words"])
        if analysis:
            charts["heaps"] = report.heaps_png(growth, heaps)
        self.set_status_message("Writing the HTML report")
        self.set_progress_percentage(80)
        timings = self.stage_timings(time.monotonic() - started)
        with outputs["html"].open("w") as handle:
            handle.write(htmlreport.render(payload, charts, timings))
        self.set_status_message(f"Report: {outputs['html'].path}")
        self.set_progress_percentage(100)
        print(self.summary(payload, timings), flush=True)

    def all_outputs(self) -> dict[str, luigi.target.FileSystemTarget]:
        """This report's outputs and the corpus and word counts it was made from."""
        return {
            "corpus": CorpusParquet(**self.corpus_params()).output(),
            "word counts": self.word_count_task().output(),
            **self.output(),
        }

    def chart_title(self) -> str:
        return f"Top words in the {self.n_books} most downloaded Gutenberg books ({self.period}, {self.date})"

    def upstream(self) -> list[luigi.Task]:
        """Every task this report depends on, dependencies first, downloads of its corpus included."""
        order: dict[str, luigi.Task] = {}

        def visit(task: luigi.Task) -> None:
            if task.task_id in order:
                return
            deps = list(luigi.task.flatten(task.requires()))
            if isinstance(task, CorpusParquet) and task.output().exists():
                manifest = read_corpus_manifest(task.output().path)
                for entry in [*manifest["books"], *manifest["skipped"]]:
                    try:
                        deps.append(DownloadBook(book_id=entry["book_id"]))
                    except ValueError:
                        continue  # an invalid id on the list: never downloaded
            for dep in deps:
                visit(dep)
            order[task.task_id] = task

        visit(self.requires())
        return list(order.values())

    def stage_timings(self, own_seconds: float | None = None) -> list[dict[str, Any]]:
        """Seconds per task family, from the records tasks leave when they finish (see _record_timing).

        `own_seconds` is this task's time so far when it is still running (it has no record yet).
        """
        stages: dict[str, dict[str, Any]] = {}
        tasks = self.upstream() + ([] if own_seconds is not None else [self])
        for task in tasks:
            record = read_timing(task)
            if record is None:
                continue
            stage = stages.setdefault(
                task.task_family, {"stage": task.task_family, "tasks": 0, "seconds": 0.0}
            )
            stage["tasks"] += 1
            stage["seconds"] += record["seconds"]
            stage["finished"] = max(stage.get("finished", ""), record["finished"])
        if own_seconds is not None:
            stages[self.task_family] = {
                "stage": self.task_family,
                "tasks": 1,
                "seconds": own_seconds,
                "finished": _utc_now(),
            }
        return list(stages.values())

    def summary(self, payload: dict[str, Any], timings: list[dict[str, Any]]) -> str:
        """The table and facts printed at the end of a run."""
        rows = [(w["rank"], w["word"], w["count"]) for w in payload["words"]]
        books = ", ".join(str(b["book_id"]) for b in payload["books"])
        skipped = ", ".join(f"{b['book_id']} ({b['title']})" for b in payload["skipped"]) or "none"
        zipf, heaps = payload.get("zipf"), payload.get("heaps")
        laws = []
        if zipf:
            laws.append(f"Zipf exponent s {-zipf['exponent']:.3f} (ranks 1-{zipf['points']})")
        if heaps:
            laws.append(f"Heaps K {heaps['constant']:.2f}, beta {heaps['exponent']:.3f}")
        stage_width = max([len("stage"), *(len(t["stage"]) for t in timings)])
        stage_lines = [f"{'stage':<{stage_width}}  tasks  seconds  finished (UTC)"]
        stage_lines += [
            f"{t['stage']:<{stage_width}}  {t['tasks']:>5}  {t['seconds']:>7.1f}  {t['finished']}"
            for t in timings
        ]
        outputs = payload.get("outputs") or {kind: t.path for kind, t in self.all_outputs().items()}
        lines = [
            "",
            f"Top {len(rows)} words ({self.engine}; stop words: {self.stopwords}) in "
            f"{len(payload['books'])} books, {self.period} list of {self.date}:",
            "",
            report.format_table(rows),
            "",
            f"tokens {payload['tokens']:,}, distinct words {payload['distinct_words']:,}"
            + "".join(f"; {law}" for law in laws),
            f"books used ({len(payload['books'])}): {books}",
            f"books skipped: {skipped}",
            "",
            *stage_lines,
            "",
            *(f"{kind:>11}: {path}" for kind, path in outputs.items()),
            "",
        ]
        return "\n".join(lines)


def _book_stats(corpus: dict[str, Any], analysis: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The analysis's per-book rows with titles and authors from the corpus manifest, in list order."""
    manifest = {b["book_id"]: b for b in corpus["books"]}
    words: dict[tuple[int, str], list[dict[str, Any]]] = collections.defaultdict(list)
    for row in sorted(analysis["book_words"], key=lambda r: (r["book_id"], r["list"], r["rank"])):
        entry = {"word": row["word"], "count": row["count"]}
        if row["list"] == "distinctive":
            entry["tfidf"] = row["tfidf"]
        words[row["book_id"], row["list"]].append(entry)
    stats = []
    for row in analysis["books"]:
        book = manifest.get(row["book_id"], {})
        stats.append(
            {
                **row,
                "title": book.get("title", ""),
                "author": book.get("author", ""),
                "top": words[row["book_id"], "top"],
                "distinctive": words[row["book_id"], "distinctive"],
            }
        )
    return stats


def read_timing(task: luigi.Task) -> dict[str, Any] | None:
    """The record `_record_timing` left for `task`, or None."""
    target = storage.target(storage.timing_path(task.task_family, task.task_id))
    if not target.exists():
        return None
    try:
        with target.open("r") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


@luigi.Task.event_handler(luigi.Event.PROCESSING_TIME)
def _record_timing(task: luigi.Task, seconds: float) -> None:
    """Keep how long each pipeline task ran, for the per-stage times of the summary and report."""
    if not type(task).__module__.startswith("pipeline."):
        return
    record = {"task_id": task.task_id, "seconds": round(seconds, 3), "finished": _utc_now()}
    try:
        report.write_json(storage.target(storage.timing_path(task.task_family, task.task_id)), record)
    except Exception as exc:
        logger.warning("could not record the time of %s: %s", task, exc)


def write_word_counts(target: luigi.target.FileSystemTarget, counts: Iterable[tuple[str, int]]) -> None:
    """A word-count Parquet directory like the Spark job's: one file, by count descending then word."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = sorted(counts, key=lambda pair: (-pair[1], pair[0]))
    table = pa.table(
        {"word": [w for w, _ in rows], "count": [c for _, c in rows]},
        schema=pa.schema([("word", pa.string()), ("count", pa.int64())]),
    )
    with target.temporary_path() as tmp, storage.local_output_dir(tmp) as local:
        pq.write_table(table, os.path.join(local, "part-00000.parquet"))


class DamagedOutputError(RuntimeError):
    """An output that exists (so Luigi takes it as done) but cannot be read."""


def check_parquet_files(local: str, path: str, what: str) -> list[str]:
    """The Parquet file names in `local` (a local copy of `path`), in order; fails with one line naming
    the unreadable file and what to delete."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = sorted(name for name in os.listdir(local) if name.endswith(".parquet"))
    if not names:
        raise DamagedOutputError(f"{path}: the {what} has no Parquet files; delete {path} and rerun")
    for name in names:
        try:
            pq.ParquetFile(os.path.join(local, name)).metadata  # noqa: B018 - reads and checks the footer
        except (OSError, pa.ArrowException) as exc:
            raise DamagedOutputError(
                f"{posixpath.join(path, name)}: not a readable Parquet file ({exc}); "
                f"the {what} is damaged: delete {path} and rerun"
            ) from exc
    return names


def check_parquet_dir(path: str, what: str) -> None:
    """check_parquet_files for a directory that is not read here (Spark reads it)."""
    with storage.local_copy(path) as local:
        check_parquet_files(local, path, what)


def read_word_counts(path: str) -> list[tuple[str, int]]:
    """(word, count) pairs from a word-count Parquet directory (local or hdfs://)."""
    import pyarrow.parquet as pq

    with storage.local_copy(path) as local:
        check_parquet_files(local, path, "word count")
        table = pq.read_table(local, columns=["word", "count"])
    return list(zip(table.column("word").to_pylist(), table.column("count").to_pylist(), strict=True))


def read_corpus_manifest(corpus_dir: str) -> dict[str, Any]:
    with storage.target(posixpath.join(corpus_dir, CORPUS_MANIFEST)).open("r") as handle:
        return json.load(handle)


class TopWordsSpark(TopWords):
    """Top words of the corpus counted by Spark, with the per-book analysis: CSV, JSON, PNG, HTML."""

    engine = "spark"

    def word_count_task(self) -> WordCountSpark:
        return WordCountSpark(**self.corpus_params())

    def analysis(self) -> dict[str, list[dict[str, Any]]]:
        path = self.word_count_task().analysis_path()
        return {part: read_parquet_rows(posixpath.join(path, part)) for part in ANALYSIS_PARTS}


def read_parquet_rows(path: str) -> list[dict[str, Any]]:
    """Every row of a Parquet directory (local or hdfs://) as dicts."""
    import pyarrow.parquet as pq

    with storage.local_copy(path) as local:
        check_parquet_files(local, path, "analysis")
        return pq.read_table(local).to_pylist()


@TopWords.event_handler(luigi.Event.DEPENDENCY_PRESENT)
def _print_existing_report(task: TopWords) -> None:
    """A rerun with nothing to do still shows the table it made before."""
    # Only for the task named on the command line: a trend over a month depends on 30 complete reports.
    if task.task_family not in sys.argv[1:]:
        return
    with task.output()["json"].open("r") as handle:
        print(task.summary(json.load(handle), task.stage_timings()), flush=True)


@luigi.Task.event_handler(luigi.Event.FAILURE)
def _print_failure(task: luigi.Task, exception: BaseException) -> None:
    """One line naming the task and the cause, after Luigi's traceback."""
    message = " ".join(str(exception).split()) or type(exception).__name__
    if len(message) > 1000:
        message = message[:1000] + "..."
    print(f"ERROR: {task}: {message}", file=sys.stderr, flush=True)
