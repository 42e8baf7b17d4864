"""The MapReduce engines: CorpusText -> WordCountMR (mrjob) and WordCountHadoop (luigi.contrib.hadoop).

Both start from the same CorpusParquet through CorpusText, a line-oriented UTF-8 export that Hadoop
streaming can split, and tokenize with jobs/textrules.py, so their counts equal the Spark engine's.
"""

from __future__ import annotations

import contextlib
import heapq
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
from pipeline import formats, luigi_internals, mrrunner, storage
from pipeline.config import MRJOB_RUNNERS, mrjob, spark, spark_environment
from pipeline.corpus import CorpusTask, CorpusText
from pipeline.topwords import TopWords

logger = logging.getLogger("luigi-interface." + __name__)


luigi_hadoop = luigi_internals.import_contrib_hadoop(mrrunner)


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


def _runner_parameter() -> luigi.Parameter:
    return luigi.OptionalChoiceParameter(
        default=None,
        choices=MRJOB_RUNNERS,
        significant=False,  # every runner gives the same counts, so it is not part of the output's identity
        description="mrjob runner (inline, local, hadoop, emr, dataproc, spark); default [mrjob] runner",
    )


class WordCountMR(CorpusTask):
    """Every word of one corpus with its count, by jobs/mr_word_count.py: the word-count table under
    word_counts/mrjob/."""

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
        args = ["--runner", runner, "--conf-path", mrjob().conf_file()]
        if runner == "spark":
            # The spark runner uses the same [spark] settings as WordCountSpark: one place for Spark.
            master = spark().master
            args += ["--spark-master", master, "--spark-submit-bin", spark().submit_binary()]
            args += ["--spark-args", f"--driver-java-options '{spark().driver_java_options()}'"]
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
        if self.runner_name() == "spark":
            # The spark runner starts spark-submit with this process's environment.
            os.environ.update(spark_environment())
        with _log_to_stderr("mrjob"), job.make_runner() as runner:
            runner.run()
            counts = job.parse_output(runner.cat_output())
            with self.output().temporary_path() as tmp:
                formats.write_word_counts(tmp, counts)
        self.set_progress_percentage(100)


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
    """The lines that begin in [start, end) of a UTF-8 file, as Hadoop's line reader assigns them.

    The split is read and decoded in one piece (a tell() and a decode per line took a third of the
    map tasks' time); lines end at `\\n` only, as Hadoop's do, not at str.splitlines' other breaks.
    """
    with open(path, "rb") as handle:
        if start:
            # A line that began before `start` belongs to the previous split.
            handle.seek(start - 1)
            handle.readline()
        begin = handle.tell()
        if begin >= end:
            return
        data = handle.read(end - begin)
        if data and not data.endswith(b"\n"):
            data += handle.readline()  # the last line begins in the split: all of it is the split's
    lines = data.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        yield line + "\n"


class WordCountHadoop(CorpusTask, luigi_hadoop.JobTask):
    """Every word of one corpus with its count, by a luigi.contrib.hadoop JobTask: the word-count table
    under word_counts/hadoop/.

    The MapReduce job streams `word<TAB>count` lines into a scratch directory beside the output (the
    `-streaming` suffix: it never looks complete), which is then written as the word-count table and
    removed. Local storage runs on StreamingLocalJobRunner (Luigi's LocalJobRunner, streaming splits of
    the input through parallel map processes); an hdfs:// root runs Hadoop streaming (`[hadoop]
    streaming_jar`).
    """

    engine = "hadoop"
    data_interchange_format = "json"  # json.loads between steps instead of eval
    n_reduce_tasks = luigi.IntParameter(
        default=8,
        significant=False,  # any number of reducers gives the same table
        description="reduce tasks of the Hadoop streaming job (the local runner reduces in one process)",
    )
    # Set while the job runs: Luigi's runners write to whatever output() returns.
    _job_output: luigi.target.FileSystemTarget | None = None

    def requires(self) -> CorpusText:
        return CorpusText(**self.corpus_params())

    def input_hadoop(self) -> list[luigi.target.FileSystemTarget]:
        return self.requires().part_targets(hadoop=True)

    def output(self) -> luigi.target.FileSystemTarget:
        if self._job_output is not None:
            return self._job_output
        return storage.target(storage.word_counts_path(self.engine, self.date, self.period, self.n_books))

    def streaming_dir(self) -> str:
        """The scratch directory beside the output that the MapReduce job's part files go to."""
        return self.output().path + "-streaming"

    def streaming_target(self) -> luigi.target.FileSystemTarget:
        """Where the MapReduce job writes: on HDFS the directory itself, locally its one part file."""
        path = self.streaming_dir()
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
        runner = luigi_hadoop.DefaultHadoopJobRunner()
        # The job writes a scratch directory that never looks complete; the table is made atomic in run().
        # Luigi's extra rename would go through its autoconfigured client, which knows no namenode.
        runner.end_job_with_atomic_move_dir = False
        return runner

    def extra_modules(self) -> list[Any]:
        import jobs

        return [jobs]

    def run(self) -> None:
        final = self.output()
        scratch = self.streaming_target()
        scratch_dir = self.streaming_dir()
        fs = final.fs
        if fs.exists(scratch_dir):  # left by a run that was killed
            storage.remove(scratch_dir)
        self.set_status_message(f"MapReduce on {type(self.job_runner()).__name__}")
        self._job_output = scratch
        try:
            super().run()
        finally:
            self._job_output = None
        self.set_status_message("Writing the word-count table")
        with final.temporary_path() as tmp:
            formats.write_word_counts(tmp, self.streamed_counts(scratch_dir))
        storage.remove(scratch_dir)
        self.set_progress_percentage(100)

    def streamed_counts(self, scratch_dir: str) -> Iterator[tuple[str, int]]:
        """(word, count) from the job's `word<TAB>count` part files."""
        fs = self.output().fs
        # The local client lists full paths, luigi's WebHDFS client bare names.
        names = sorted(posixpath.basename(name) for name in fs.listdir(scratch_dir))
        for name in names:
            if not name.startswith("part-"):
                continue
            with storage.target(posixpath.join(scratch_dir, name)).open("r") as handle:
                for line in handle:
                    word, _, count = line.rstrip("\n").rpartition("\t")
                    yield word, int(count)

    def init_mapper(self) -> None:
        # In-mapper combining: each distinct word leaves a map task once.
        self._counts: Counter[str] = Counter()
        self._lines: list[str] = []

    def mapper(self, line: str) -> Iterator[tuple[str, int]]:
        self._lines.append(line)
        if len(self._lines) >= textrules.BATCH_LINES:
            self._count_lines()
        return iter(())

    def _count_lines(self) -> None:
        self._counts.update(textrules.words("\n".join(self._lines)))
        self._lines.clear()

    def final_mapper(self) -> Iterator[tuple[str, int]]:
        self._count_lines()
        yield from self._counts.items()

    def combiner(self, word: str, counts: Iterable[int]) -> Iterator[tuple[str, int]]:
        yield word, sum(counts)

    def reducer(self, word: str, counts: Iterable[int]) -> Iterator[tuple[str, str]]:
        # With json interchange, the final writer joins the values as they are: strings.
        yield word, str(sum(counts))


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
