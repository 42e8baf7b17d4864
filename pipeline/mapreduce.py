"""The MapReduce engines: CorpusText -> WordCountMR (mrjob) and WordCountHadoop (luigi.contrib.hadoop).

Both start from the same CorpusParquet through CorpusText, a line-oriented UTF-8 export that Hadoop
streaming can split, and tokenize with jobs/textrules.py, so their counts equal the Spark engine's.
"""

from __future__ import annotations

import contextlib
import heapq
import importlib
import io
import logging
import multiprocessing
import os
import posixpath
import shlex
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import luigi

from jobs import textrules
from pipeline import mrrunner, storage
from pipeline.config import MRJOB_RUNNERS, mrjob, spark
from pipeline.tasks import (
    CONF_DIR,
    CorpusParquet,
    CorpusTask,
    TopWords,
    check_parquet_files,
    default_spark_submit,
    logger,
    read_word_counts,
    spark_driver_java_options,
    write_word_counts,
)


class _DropMessages(logging.Filter):
    def __init__(self, *prefixes: str) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefixes)


@contextlib.contextmanager
def _quiet(logger_name: str, *prefixes: str) -> Iterator[None]:
    log_filter = _DropMessages(*prefixes)
    logger = logging.getLogger(logger_name)
    logger.addFilter(log_filter)
    try:
        yield
    finally:
        logger.removeFilter(log_filter)


@contextlib.contextmanager
def _log_to_stderr(logger_name: str) -> Iterator[None]:
    """Show a library's INFO progress lines (mrjob's steps) while a task runs."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{logger_name}: %(message)s"))
    library_logger = logging.getLogger(logger_name)
    previous_level = library_logger.level
    library_logger.addHandler(handler)
    library_logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        library_logger.removeHandler(handler)
        library_logger.setLevel(previous_level)


def _import_luigi_hadoop() -> Any:
    """luigi.contrib.hadoop, with our runner standing in for the mrrunner module luigi's wheel lacks."""
    try:
        importlib.import_module("luigi.contrib.mrrunner")
    except ModuleNotFoundError:
        sys.modules["luigi.contrib.mrrunner"] = mrrunner
    # luigi.contrib.hadoop imports the GCS and S3 targets, which warn at import about cloud SDKs this
    # project never uses; every `luigi --module pipeline` run would print those warnings.
    with _quiet("luigi-interface", "Loading GCP module", "Loading GCS module"):
        return importlib.import_module("luigi.contrib.hadoop")


luigi_hadoop = _import_luigi_hadoop()

TEXT_PART_PREFIX = "part-"
MRJOB_CONF = CONF_DIR / "mrjob.conf"


class CorpusText(CorpusTask):
    """The corpus as UTF-8 text, one body line per line (blank lines left out), under corpus_text/."""

    def requires(self) -> CorpusParquet:
        return CorpusParquet(**self.corpus_params())

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.corpus_text_path(self.date, self.period, self.n_books))

    def run(self) -> None:
        source = self.input().path
        with storage.local_copy(source) as corpus:
            # Checked before the output's temporary directory exists: a damaged corpus leaves nothing behind.
            parts = check_parquet_files(corpus, source, "corpus")
            with self.output().temporary_path() as tmp, storage.local_output_dir(tmp) as local:
                for index, name in enumerate(parts):
                    self.set_status_message(f"Writing text part {index + 1} of {len(parts)}")
                    dest = os.path.join(local, f"{TEXT_PART_PREFIX}{index:05d}.txt")
                    write_text_part(os.path.join(corpus, name), dest)
                    self.set_progress_percentage(100 * (index + 1) // len(parts))

    def part_targets(self, hadoop: bool = False) -> list[luigi.target.FileSystemTarget]:
        """The text parts, in order (a directory is not a valid input for Luigi's LocalJobRunner)."""
        target = self.output()
        names = sorted(posixpath.basename(p) for p in target.fs.listdir(target.path))
        return [
            storage.target(posixpath.join(target.path, name), hadoop=hadoop)
            for name in names
            if name.startswith(TEXT_PART_PREFIX)
        ]


def write_text_part(parquet_path: str, dest: str) -> None:
    """The `text` column of one corpus Parquet part as lines, one row group (book) at a time."""
    import pyarrow.parquet as pq

    source = pq.ParquetFile(parquet_path)
    with open(dest, "w", encoding="utf-8", newline="\n") as out:
        for group in range(source.num_row_groups):
            for text in source.read_row_group(group, columns=["text"]).column("text").to_pylist():
                out.writelines(text_lines(text))


def text_lines(text: str) -> Iterator[str]:
    """The non-blank lines of a corpus text, each ending in `\\n` (streaming drops a line's last char)."""
    for line in text.split("\n"):
        if line.strip():
            yield line + "\n"


def _runner_parameter() -> luigi.Parameter:
    return luigi.OptionalChoiceParameter(
        default=None,
        choices=MRJOB_RUNNERS,
        significant=False,  # every runner gives the same counts, so it is not part of the output's identity
        description="mrjob runner (inline, local, hadoop, emr, dataproc, spark); default [mrjob] runner",
    )


class WordCountMR(CorpusTask):
    """Every word of one corpus with its count, by jobs/mr_word_count.py: Parquet under word_counts/mrjob/."""

    runner = _runner_parameter()
    engine = "mrjob"

    def requires(self) -> CorpusText:
        return CorpusText(**self.corpus_params())

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.word_counts_path(self.engine, self.date, self.period, self.n_books))

    def runner_name(self) -> str:
        return self.runner or mrjob().runner

    def mrjob_args(self) -> list[str]:
        """Command-line arguments for the job: runner, conf file, Spark settings and the text parts."""
        runner = self.runner_name()
        args = ["--runner", runner, "--conf-path", mrjob().conf_path or str(MRJOB_CONF)]
        if runner == "spark":
            # The spark runner uses the same [spark] settings as WordCountSpark: one place for Spark.
            master = spark().master
            submit = spark().spark_submit or default_spark_submit()
            args += ["--spark-master", master, "--spark-submit-bin", submit]
            args += ["--spark-args", f"--driver-java-options '{spark_driver_java_options()}'"]
            if master.startswith("local"):
                # mrjob would run executors with whatever `python3` is first on PATH.
                args += ["--python-bin", sys.executable]
        return args + [target.path for target in self.requires().part_targets()]

    def run(self) -> None:
        from jobs.mr_word_count import MRWordCount

        args = self.mrjob_args()
        self.set_status_message(f"mrjob job on the {self.runner_name()} runner")
        logger.info("mr_word_count.py %s", shlex.join(args))
        job = MRWordCount(args=args)
        with _log_to_stderr("mrjob"), job.make_runner() as runner:
            runner.run()
            counts = job.parse_output(runner.cat_output())
            write_word_counts(self.output(), counts)
        self.set_progress_percentage(100)

    def read_counts(self) -> list[tuple[str, int]]:
        return read_word_counts(self.output().path)


SPLIT_BYTES = 32 * 1024 * 1024


class StreamingLocalJobRunner(luigi_hadoop.LocalJobRunner):
    """Luigi's LocalJobRunner with Hadoop's input handling: map tasks over file splits, in parallel processes.

    Luigi's own LocalJobRunner first copies all input into one StringIO (several GB for a 1 GB corpus,
    str being up to 4 bytes a character) and maps it in one process. Here each split of at most
    `split_bytes` is streamed line by line through `job.run_mapper` in a process pool; only map output
    is kept, which in-mapper combining shrinks to one line per distinct word and split. Each split's
    output is sorted in its map process and the sorted outputs are merged, as Hadoop's shuffle does;
    combining and reducing are the job's own `run_combiner` and `run_reducer`.
    """

    def __init__(self, processes: int | None = None, split_bytes: int = SPLIT_BYTES) -> None:
        super().__init__()
        self.processes = processes or len(os.sched_getaffinity(0))
        self.split_bytes = split_bytes

    def splits(self, paths: Iterable[str]) -> list[tuple[str, int, int]]:
        """(path, start, end) byte ranges of at most split_bytes covering every input file."""
        ranges = []
        for path in paths:
            size = os.path.getsize(path)
            ranges += [
                (path, start, min(start + self.split_bytes, size))
                for start in range(0, size, self.split_bytes)
            ]
        return ranges

    def run_job(self, job: Any) -> None:
        paths = [target.path for target in luigi.task.flatten(job.input_hadoop())]
        splits = self.splits(paths)
        # fork: the job object and its imports are already in memory; nothing is re-imported per task.
        context = multiprocessing.get_context("fork")
        workers = min(self.processes, max(1, len(splits)))
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            outputs = list(pool.map(_map_split, [job] * len(splits), splits))
        # Each split's output comes back sorted, so merging them streams into the combiner; Luigi's
        # group() would hold every map output line (with an MD5 tie-breaker) in one list and sort that.
        grouped: Iterable[str] = heapq.merge(*outputs, key=_key)
        if job.combiner != NotImplemented:
            combine_output = io.StringIO()
            job.run_combiner(grouped, combine_output)
            combine_output.seek(0)
            # A combiner may emit other keys than it was given: its output is grouped again.
            grouped = self.group(combine_output)
        with job.output().open("w") as reduce_output:
            job.run_reducer(grouped, reduce_output)


def _key(line: str) -> str:
    return line.split("\t", 1)[0]


def _map_split(job: Any, split: tuple[str, int, int]) -> list[str]:
    """One map task: the split's map output lines, sorted by key as Hadoop's map-side sort leaves them."""
    output = io.StringIO()
    job.run_mapper(split_lines(*split), output)
    return sorted(output.getvalue().splitlines(keepends=True), key=_key)


def split_lines(path: str, start: int, end: int) -> Iterator[str]:
    """The lines that begin in [start, end) of a UTF-8 file, as Hadoop's line reader assigns them."""
    with open(path, "rb") as handle:
        if start:
            # A line that began before `start` belongs to the previous split.
            handle.seek(start - 1)
            handle.readline()
        while handle.tell() < end:
            line = handle.readline()
            if not line:
                return
            yield line.decode("utf-8")


class WordCountHadoop(CorpusTask, luigi_hadoop.JobTask):
    """Every word of one corpus with its count, by a luigi.contrib.hadoop JobTask: under word_counts/hadoop/.

    Local storage runs on StreamingLocalJobRunner (Luigi's LocalJobRunner, streaming splits of the
    input through parallel map processes) and writes one `word<TAB>count` file; an hdfs:// root runs
    Hadoop streaming (`[hadoop] streaming_jar`) and writes a directory of part files.
    """

    engine = "hadoop"
    data_interchange_format = "json"  # json.loads between steps instead of eval
    n_reduce_tasks = 8

    def requires(self) -> CorpusText:
        return CorpusText(**self.corpus_params())

    def input_hadoop(self) -> list[luigi.target.FileSystemTarget]:
        return self.requires().part_targets(hadoop=True)

    def output(self) -> luigi.target.FileSystemTarget:
        path = storage.word_counts_path(self.engine, self.date, self.period, self.n_books)
        if storage.is_hdfs(path):
            return storage.target(path, hadoop=True)
        return storage.target(posixpath.join(path, "part-00000"))

    def job_runner(self) -> Any:
        if not storage.is_hdfs(self.output().path):
            return StreamingLocalJobRunner()
        if not luigi.configuration.get_config().get("hadoop", "streaming_jar", ""):
            raise ValueError(
                f"{self.output().path}: HDFS output needs Hadoop streaming; set [hadoop] streaming_jar"
            )
        return luigi_hadoop.DefaultHadoopJobRunner()

    def extra_modules(self) -> list[Any]:
        import jobs

        return [jobs]

    def run(self) -> None:
        self.set_status_message(f"MapReduce on {type(self.job_runner()).__name__}")
        super().run()
        self.set_progress_percentage(100)

    def init_mapper(self) -> None:
        # In-mapper combining: each distinct word leaves a map task once.
        self._counts: Counter[str] = Counter()

    def mapper(self, line: str) -> Iterator[tuple[str, int]]:
        self._counts.update(textrules.words(line))
        return iter(())

    def final_mapper(self) -> Iterator[tuple[str, int]]:
        yield from self._counts.items()

    def combiner(self, word: str, counts: Iterable[int]) -> Iterator[tuple[str, int]]:
        yield word, sum(counts)

    def reducer(self, word: str, counts: Iterable[int]) -> Iterator[tuple[str, str]]:
        # With json interchange, the final writer joins the values as they are: strings.
        yield word, str(sum(counts))

    def read_counts(self) -> list[tuple[str, int]]:
        target = self.output()
        if storage.is_hdfs(target.path):
            names = sorted(target.fs.listdir(target.path))
            targets = [
                storage.target(p, hadoop=True) for p in names if posixpath.basename(p).startswith("part-")
            ]
        else:
            targets = [target]
        counts = []
        for part in targets:
            with part.open("r") as handle:
                counts.extend(parse_tsv_counts(handle))
        return counts


def parse_tsv_counts(lines: Iterable[str]) -> Iterator[tuple[str, int]]:
    """(word, count) from `word<TAB>count` lines."""
    for line in lines:
        word, _, count = line.rstrip("\n").rpartition("\t")
        yield word, int(count)


class TopWordsMR(TopWords):
    """Top words of the corpus counted by mrjob: CSV, JSON and PNG under top_words/mrjob/."""

    runner = _runner_parameter()
    engine = "mrjob"

    def word_count_task(self) -> WordCountMR:
        return WordCountMR(runner=self.runner, **self.corpus_params())


class TopWordsHadoop(TopWords):
    """Top words of the corpus counted by the Hadoop JobTask: CSV, JSON and PNG under top_words/hadoop/."""

    engine = "hadoop"

    def word_count_task(self) -> WordCountHadoop:
        return WordCountHadoop(**self.corpus_params())
