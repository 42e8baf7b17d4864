"""The Spark engine: WordCountSpark (jobs/word_count.py by spark-submit, with live progress) and
TopWordsSpark (its top words and per-book analysis).

ConfiguredSparkSubmit is luigi.contrib.spark's SparkSubmitTask with every setting taken from `[spark]`;
`spark_submit_command` gives the same command line for any other app (the benchmark uses it).
"""

from __future__ import annotations

import collections
import functools
import hashlib
import logging
import os
import posixpath
import re
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import luigi
from luigi.contrib.external_program import ExternalProgramRunContext, ExternalProgramRunError
from luigi.contrib.spark import SparkSubmitTask

from pipeline import formats, storage
from pipeline.config import JOBS_DIR, spark, spark_environment
from pipeline.corpus import CorpusParquet, CorpusTask
from pipeline.errors import SparkJobError
from pipeline.jvm import QUIET_CDS, build_once, class_archive_options, class_archive_path, jobs_jar
from pipeline.topwords import TopWords

logger = logging.getLogger("luigi-interface." + __name__)


def local_uri(path: str) -> str:
    """Absolute file:// URI for local paths, so Spark never resolves them against a default HDFS."""
    return path if "://" in path else Path(path).resolve().as_uri()


def jobs_archive() -> str:
    """A zip of the `jobs` package for `--py-files`, so `import jobs.textrules` works on every executor.

    Built once per content (its name carries a hash of the files) in the temporary directory.
    """
    files = sorted(p for p in JOBS_DIR.rglob("*") if p.is_file() and p.suffix in (".py", ".txt"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(JOBS_DIR)).encode() + b"\0" + path.read_bytes())

    def zip_into(archive: Path) -> None:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                zf.write(path, str(Path("jobs") / path.relative_to(JOBS_DIR)))

    return build_once(f"jobs-{digest.hexdigest()[:16]}.zip", zip_into)


@dataclass(frozen=True)
class Tokenizer:
    """The tokenizer `[spark] tokenizer` asks for: the JVM one's jar (None: Spark's builtin functions)."""

    jar: str | None

    @classmethod
    def configured(cls) -> Tokenizer:
        choice = spark().tokenizer
        if choice == "builtin":
            return cls(None)
        jar = jobs_jar()
        if jar is None and choice == "jvm":
            raise RuntimeError(
                "[spark] tokenizer = jvm needs a JDK's javac (set JAVA_HOME or put it on PATH)"
            )
        if jar is None:
            logger.info(
                "No javac (a JRE only): the Spark job tokenizes with Spark's built-in regex functions"
            )
        return cls(jar)

    @property
    def jars(self) -> list[str]:
        return [self.jar] if self.jar else []

    @property
    def option(self) -> str:
        """jobs/word_count.py's `--tokenizer` option."""
        return f"--tokenizer={'jvm' if self.jar else 'builtin'}"


def tokenizer_args() -> tuple[list[str], list[str]]:
    """spark-submit's `--jars` arguments and word_count.py's options for `[spark] tokenizer`."""
    tokenizer = Tokenizer.configured()
    return (["--jars", tokenizer.jar] if tokenizer.jar else []), [tokenizer.option]


class ConfiguredSparkSubmit(SparkSubmitTask):
    """SparkSubmitTask with every setting from `[spark]`, the `jobs` package on `--py-files`, and Spark
    found from the installed pyspark when no SPARK_HOME is set (cron, an unactivated venv)."""

    @property
    def spark_submit(self) -> str:
        return spark().submit_binary()

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
        return [jobs_archive(), *extra]

    @property
    def conf(self) -> dict[str, str]:
        items = (item.strip() for item in spark().conf.split("|"))
        return dict(item.split("=", 1) for item in items if item)

    @property
    def pyspark_driver_python(self) -> str | None:
        # spark-submit would otherwise run the driver with whatever `python3` is first on PATH.
        return None if "spark.pyspark.driver.python" in self.conf else sys.executable

    @property
    def pyspark_python(self) -> str | None:
        if "spark.pyspark.python" in self.conf or not self.master.startswith("local"):
            return None
        return sys.executable

    # Set by spark_submit_command(class_archive=False) and SparkClassArchive: no archive is mapped.
    map_class_archive = True
    extra_java_options: Sequence[str] = ()

    @property
    def driver_java_options(self) -> str:
        archive = self.map_class_archive and spark().class_data_sharing and self.deploy_mode != "cluster"
        options = [spark().driver_java_options(), *(class_archive_options() if archive else [])]
        return " ".join([*options, *self.extra_java_options])

    def program_environment(self) -> dict[str, str]:
        return {**super().program_environment(), **spark_environment()}


def spark_submit_command(
    app: str,
    app_options: Sequence[str] = (),
    *,
    master: str | None = None,
    extra_args: Sequence[str] = (),
    class_archive: bool = True,
) -> list[str]:
    """The spark-submit command line WordCountSpark would use, for any `app`: `[spark]` settings (with
    `master` instead of `[spark] master` if given), then `extra_args`, `app` and `app_options`; with
    `class_archive` False, a plain driver without the class-data sharing archive."""
    submit = ConfiguredSparkSubmit()
    submit.map_class_archive = class_archive
    command = [str(a) for a in submit.spark_command()]
    if master is not None:
        command[command.index("--master") + 1] = master
    return [*command, *extra_args, app, *app_options]


ANALYSIS_PARTS = ("books", "book_words", "growth")
SPARK_WARNING_RE = re.compile(r"^\d\d:\d\d:\d\d (WARN|ERROR) ")


class SparkProgress:
    """Turns the Spark job's stderr lines into task progress, status messages and log lines."""

    def __init__(self, task: luigi.Task) -> None:
        # Imported here, not at the top: jobs.word_count imports pyspark, which a no-op run never needs.
        from jobs.word_count import ERROR_PREFIX, PROGRESS_PREFIX, UI_PREFIX

        self.progress = re.compile(re.escape(PROGRESS_PREFIX) + r"(\d+)% (.*)$")
        self.error_prefix = ERROR_PREFIX
        self.job_error: str | None = None
        self.task = task
        # The job prints its UI address; in cluster mode the driver is remote and spark-submit prints the
        # cluster manager's tracking URL instead.
        self.tracking_url = re.compile(rf"(?:{re.escape(UI_PREFIX)}|tracking URL: )(https?://\S+)")
        self.url_seen = False
        self.percent = -1
        self.logged = -10

    def feed(self, line: str) -> bool:
        """Acts on `line`; True if it was a progress line (not worth keeping for an error message) or the
        job's own one-line error (kept in `job_error`)."""
        if line.startswith(self.error_prefix):
            self.job_error = line[len(self.error_prefix) :]
            return True
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


class WordCountSubmit(ConfiguredSparkSubmit):
    """ConfiguredSparkSubmit of jobs/word_count.py with the tokenizer `[spark] tokenizer` asks for: its jar
    on `--jars` and `tokenizer_option()` among the app's options."""

    app = str(JOBS_DIR / "word_count.py")

    @functools.cached_property
    def tokenizer(self) -> Tokenizer:
        # Once per task: finding the jar hashes the Java sources.
        return Tokenizer.configured()

    @property
    def jars(self) -> list[str]:
        return [*(super().jars or []), *self.tokenizer.jars]

    def tokenizer_option(self) -> str:
        return self.tokenizer.option


class WordCountSpark(CorpusTask, WordCountSubmit):
    """Every word of one corpus with its count, by jobs/word_count.py: Parquet under word_counts/spark/."""

    name = "gutenberg-wordcount"
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
        formats.check_parquet_dir(self.input().path, "corpus")
        if self.output().exists():
            # Counts from before the job wrote a per-book analysis: incomplete, so they are redone.
            logger.warning("%s has no per-book analysis; counting again", self.output().path)
            storage.remove(self.output().path)
        self.set_status_message(f"spark-submit on {self.master}")
        self.set_progress_percentage(0)
        with self.output().temporary_path() as tmp:
            self._output_tmp = tmp
            self._submit()
        self.set_progress_percentage(100)

    def app_options(self) -> list[str]:
        tmp = local_uri(self._output_tmp)
        return [local_uri(self.input().path), tmp, "--analysis", self.tokenizer_option()]

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
            progress = SparkProgress(self)
            for raw in iter(proc.stderr.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if not progress.feed(line):
                    tail.append(line)
            proc.wait()
        reader.join()
        stdout = b"".join(out).decode("utf-8", errors="replace")
        if stdout:
            logger.info("Program stdout:\n%s", stdout)
        if proc.returncode != 0 and progress.job_error:
            raise SparkJobError(progress.job_error)
        if proc.returncode != 0:
            raise ExternalProgramRunError(
                f"Program failed with return code={proc.returncode}:",
                args,
                env=env,
                stdout=stdout,
                stderr="\n".join(tail),
            )


ARCHIVE_BOOKS = [
    (1, 1, "English", "It was the best of times, it was the worst of times. Don’t stop; ΟΔΟΣ İstanbul."),
    (2, 2, "French", "Il était une fois une marchande de foie qui vendait du foie dans la ville."),
]


class SparkClassArchive(WordCountSubmit):
    """The Spark driver's class-data sharing archive for this machine's Java and Spark (about 190 MB in
    the temporary directory): made once by one word count with analysis of a two-book corpus, it starts
    every later local driver some seconds sooner. WordCountSpark uses it when it exists and never needs it.
    """

    name = "gutenberg-wordcount-class-archive"
    map_class_archive = False

    def output(self) -> luigi.LocalTarget:
        path = class_archive_path()
        if path is None:
            raise RuntimeError("no java on PATH or in JAVA_HOME: Spark cannot run")
        return luigi.LocalTarget(str(path))

    def run(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        target = Path(self.output().path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".archive-") as work:
            corpus = Path(work) / "corpus"
            corpus.mkdir()
            columns = zip(*ARCHIVE_BOOKS, strict=True)
            schema = pa.schema([("book_id", pa.int64()), ("rank", pa.int32()), ("language", pa.string()),
                                ("text", pa.string())])  # fmt: skip
            pq.write_table(pa.table(list(columns), schema=schema), corpus / "part-00000.parquet")
            self._work = Path(work)
            # The JVM writes the archive as it exits; the rename publishes only a whole one.
            partial = Path(work) / "driver.jsa"
            self.extra_java_options = (f"-XX:ArchiveClassesAtExit={partial}", *QUIET_CDS)
            self.set_status_message("spark-submit writing the class archive")
            result = subprocess.run(
                [str(a) for a in self.program_args()],
                env=self.program_environment(),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0 or not partial.exists():
                tail = "\n".join(result.stderr.splitlines()[-20:])
                raise SparkJobError(
                    f"spark-submit exited {result.returncode} without a class archive: {tail}"
                )
            os.replace(partial, target)

    def app_options(self) -> list[str]:
        return [str(self._work / "corpus"), str(self._work / "out"), "--analysis", self.tokenizer_option()]

    @property
    def master(self) -> str:
        return "local[2]"


class TopWordsSpark(TopWords):
    """Top words of the corpus counted by Spark, with the per-book analysis: CSV, JSON, PNG, HTML."""

    engine = "spark"

    def word_count_task(self) -> WordCountSpark:
        return WordCountSpark(**self.corpus_params())

    def analysis(self) -> dict[str, list[dict[str, Any]]]:
        path = self.word_count_task().analysis_path()
        return {
            part: formats.read_parquet_rows(posixpath.join(path, part), "analysis") for part in ANALYSIS_PARTS
        }
