"""The MapReduce engines: the mrjob job on literal input, Luigi's Hadoop job on a streaming node, and
all three engines on the 23 mirror books, compared row by row with each other and the Python rules."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs import textrules
from pipeline import storage
from pipeline.config import MRJOB_CONF
from pipeline.formats import read_word_counts
from pipeline.mapreduce import WordCountHadoop
from tests.support import (
    JOBS,
    REPO,
    MirrorServer,
    mirror_body,
    mirror_book_ids,
    mirror_dir,
    offline_args,
    run_luigi,
)

pytestmark = pytest.mark.mapreduce

DAY = datetime.date(2026, 11, 20)


LITERAL_LINES = [
    "The cat’s hat, the CAT's hat.\n",
    "Été — ÉTÉ été; naïve café 123 don't-stop\n",
    "x’y ’tis rock’n’roll'' 4th\n",
]
# Worked out by hand from the text rules: letters and marks, inner apostrophes kept as `'`, lowercase.
LITERAL_COUNTS = {
    "the": 2,
    "cat's": 2,
    "hat": 2,
    "été": 3,
    "naïve": 1,
    "café": 1,
    "don't": 1,
    "stop": 1,
    "x'y": 1,
    "tis": 1,
    "rock'n'roll": 1,
    "th": 1,
}


def parse_tsv_counts(lines: list[str]) -> list[tuple[str, int]]:
    """(word, count) from `word<TAB>count` lines: what mrjob and Hadoop streaming print."""
    return [(word, int(count)) for word, _, count in (line.rpartition("\t") for line in lines)]


def table(counts: dict[str, int] | list[tuple[str, int]]) -> list[tuple[str, int]]:
    """A word table in the one order every comparison uses: count descending, then word."""
    pairs = counts.items() if isinstance(counts, dict) else counts
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))


def run_inline(paths: list[Path]) -> list[tuple[str, int]]:
    from jobs.mr_word_count import MRWordCount

    job = MRWordCount(args=["-r", "inline", "--conf-path", str(MRJOB_CONF), *map(str, paths)])
    with job.make_runner() as runner:
        runner.run()
        return list(job.parse_output(runner.cat_output()))


def test_mrjob_inline_runner_on_literal_input(tmp_path: Path) -> None:
    source = tmp_path / "input.txt"
    source.write_text("".join(LITERAL_LINES), encoding="utf-8")
    assert table(run_inline([source])) == table(LITERAL_COUNTS)


def test_mrjob_inline_runner_on_empty_input(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert run_inline([empty]) == []


def test_mrjob_local_runner_from_the_command_line(tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("".join(LITERAL_LINES[:2]), encoding="utf-8")
    second.write_text(LITERAL_LINES[2], encoding="utf-8")
    command = [sys.executable, str(JOBS / "mr_word_count.py"), "-r", "local", "--conf-path", str(MRJOB_CONF)]
    result = subprocess.run(
        [*command, str(first), str(second)], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert table(list(parse_tsv_counts(result.stdout.splitlines()))) == table(LITERAL_COUNTS)


# --- Luigi's Hadoop JobTask, as Hadoop streaming runs it on a node ---------------------------------


def streaming_task_dir(tmp_path: Path) -> Path:
    """The files luigi's HadoopJobRunner ships to each streaming task: runner, packages, pickled job."""
    from luigi.contrib import hadoop as luigi_hadoop

    job = WordCountHadoop(date=DAY, period="yesterday", n_books=3)
    # What BaseHadoopJobTask.run sets before the job runner pickles the job.
    interchange = luigi_hadoop.DataInterchange[job.data_interchange_format]
    job.serialize = interchange["serialize"]
    job.internal_serialize = interchange["internal_serialize"]
    job.deserialize = interchange["deserialize"]

    task_dir = tmp_path / "task"
    task_dir.mkdir()
    shutil.copy(sys.modules["luigi.contrib.mrrunner"].__file__, task_dir / "mrrunner.py")
    import luigi

    modules = [luigi, *job.extra_modules(), sys.modules[type(job).__module__]]
    luigi_hadoop.create_packages_archive(modules, str(task_dir / "packages.tar"))
    job.dump(str(task_dir))
    return task_dir


def streaming_step(task_dir: Path, step: str, lines: str) -> str:
    # -I: no script directory, PYTHONPATH or user site on sys.path, as on a node where the task
    # directory holds the code; the runner must make packages.tar importable itself.
    result = subprocess.run(
        [sys.executable, "-I", "mrrunner.py", step],
        input=lines.encode("utf-8"),
        cwd=task_dir,
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    return result.stdout.decode("utf-8")


def test_hadoop_job_runs_from_the_files_streaming_ships(tmp_path: Path) -> None:
    task_dir = streaming_task_dir(tmp_path)
    with tarfile.open(task_dir / "packages.tar") as tar:
        names = set(tar.getnames())
    assert {"luigi/contrib/hadoop.py", "pipeline/mapreduce.py", "jobs/textrules.py"} <= names

    # Two map tasks, then Hadoop's sort between the phases.
    mapped = streaming_step(task_dir, "map", "".join(LITERAL_LINES[:2]))
    mapped += streaming_step(task_dir, "map", LITERAL_LINES[2])
    combined = streaming_step(task_dir, "combiner", "".join(sorted(mapped.splitlines(keepends=True))))
    reduced = streaming_step(task_dir, "reduce", "".join(sorted(combined.splitlines(keepends=True))))

    assert (task_dir / "pipeline" / "mapreduce.py").is_file()
    assert table(list(parse_tsv_counts(reduced.splitlines()))) == table(LITERAL_COUNTS)


def test_runner_script_rejects_an_unknown_step(tmp_path: Path) -> None:
    task_dir = streaming_task_dir(tmp_path)
    result = subprocess.run(
        [sys.executable, "-I", "mrrunner.py", "shuffle"], cwd=task_dir, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "ValueError: unknown step 'shuffle'; expected one of map, combiner, reduce" in result.stderr
    assert "luigi-exc-hex=" in result.stderr


# --- All three engines on the 23 shared mirror books ------------------------------------------------


@pytest.fixture(scope="module")
def engines_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One storage root where TopWordsSpark, TopWordsMR and TopWordsHadoop ran on all mirror books."""
    root = tmp_path_factory.mktemp("engines") / "data"
    with MirrorServer(mirror_dir()) as server:
        for task in ("TopWordsSpark", "TopWordsMR", "TopWordsHadoop"):
            args = [task, *engine_args(server, root), "--n-words", "0", "--stopwords", "none"]
            result = run_luigi(*args, cwd=REPO)
            assert result.returncode == 0, f"{task}: {result.stderr[-3000:]}"
        yield root


def n_books() -> int:
    """All the mirror's books (23), counted when a test runs."""
    return len(mirror_book_ids())


def engine_args(server: MirrorServer, root: Path) -> list[str]:
    return offline_args(server.url, root, n_books(), DAY.isoformat())


def word_counts_dir(root: Path, engine: str) -> Path:
    return root / "word_counts" / engine / "yesterday" / DAY.isoformat() / f"books-{n_books()}"


@pytest.fixture(scope="module")
def reference_table() -> list[tuple[str, int]]:
    return table(dict(textrules.count_words(mirror_body(i) for i in mirror_book_ids())))


@pytest.mark.spark
def test_three_engines_give_identical_full_tables(engines_root: Path, reference_table) -> None:
    spark_rows = read_word_counts(str(word_counts_dir(engines_root, "spark")))
    mrjob_rows = read_word_counts(str(word_counts_dir(engines_root, "mrjob")))
    hadoop_rows = read_word_counts(str(word_counts_dir(engines_root, "hadoop")))

    assert len(reference_table) > 70_000
    # One word-count format: every engine's table is in the same order.
    assert spark_rows == reference_table
    assert mrjob_rows == reference_table
    assert hadoop_rows == reference_table
    assert table(hadoop_rows) == reference_table
    # The same files too: the Spark job writes the table on its executors, the others through
    # formats.write_word_counts; each holds part files of exactly the format's columns and types.
    for engine in ("spark", "mrjob", "hadoop"):
        parts = sorted(word_counts_dir(engines_root, engine).glob("part-*.parquet"))
        assert parts, engine
        for part in parts:
            schema = pq.read_schema(part)
            assert [(f.name, f.type) for f in schema] == [("word", pa.string()), ("count", pa.int64())], (
                engine
            )

    reports = {
        engine: (engines_root / "top_words" / engine / "yesterday" / DAY.isoformat() / f"books-{n_books()}")
        / "top-0_stop-none.csv"
        for engine in ("spark", "mrjob", "hadoop")
    }
    expected_csv = "rank,word,count\n" + "".join(
        f"{rank},{word},{count}\n" for rank, (word, count) in enumerate(reference_table, start=1)
    )
    assert {engine: path.read_text(encoding="utf-8") for engine, path in reports.items()} == {
        engine: expected_csv for engine in reports
    }


@pytest.mark.spark
def test_mrjob_spark_runner_gives_the_same_table(
    engines_root: Path, reference_table, tmp_path: Path, spark_submit_log
) -> None:
    # Only the text export is copied over: the rerun must not download, rebuild or recount anything else.
    root = tmp_path / "data"
    text_dir = Path(storage.run_key(DAY, "yesterday", n_books()))
    shutil.copytree(engines_root / "corpus_text" / text_dir, root / "corpus_text" / text_dir)
    with MirrorServer(mirror_dir()) as server:
        wrapper, log = spark_submit_log
        args = ["WordCountMR", "--runner", "spark", "--spark-master", "local[2]"]
        args += ["--spark-spark-submit", str(wrapper)]
        result = run_luigi(*args, *engine_args(server, root), cwd=REPO)
        assert server.requests == []
    assert result.returncode == 0, result.stderr[-3000:]
    [submitted] = log.read_text().splitlines()
    assert "--master local[2]" in submitted and "/mrjob/spark/harness.py " in submitted
    assert read_word_counts(str(word_counts_dir(root, "mrjob"))) == reference_table
