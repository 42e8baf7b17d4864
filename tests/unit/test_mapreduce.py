"""pipeline/mapreduce.py without running a job: where the Hadoop job's runner and outputs go for each
storage root, and how the local streaming runner splits its input. The engines themselves run in
tests/integration/test_mapreduce.py."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from pipeline.mapreduce import StreamingLocalJobRunner, WordCountHadoop, split_lines
from tests.support import ConfigOverride

pytestmark = pytest.mark.mapreduce

DAY = datetime.date(2026, 11, 20)


def test_hadoop_job_runner_follows_the_storage_root(tmp_path: Path) -> None:
    from luigi.contrib import hadoop as luigi_hadoop

    job = WordCountHadoop(date=DAY, period="yesterday", n_books=3)
    with ConfigOverride("storage", "root", str(tmp_path)):
        runner = job.job_runner()
        assert type(runner) is StreamingLocalJobRunner
        assert isinstance(runner, luigi_hadoop.LocalJobRunner)
        assert job.output().path == f"{tmp_path}/word_counts/hadoop/yesterday/2026-11-20/books-3"
        # The job streams into one file beside the output, which the task turns into the word-count table.
        assert job.streaming_target().path == (
            f"{tmp_path}/word_counts/hadoop/yesterday/2026-11-20/books-3-streaming/part-00000"
        )
    with ConfigOverride("storage", "root", "hdfs://namenode:8020/gw"):
        assert job.output().path == "hdfs://namenode:8020/gw/word_counts/hadoop/yesterday/2026-11-20/books-3"
        assert job.streaming_target().path == (
            "hdfs://namenode:8020/gw/word_counts/hadoop/yesterday/2026-11-20/books-3-streaming"
        )
        with pytest.raises(ValueError) as error:
            job.job_runner()
        assert str(error.value) == (
            "hdfs://namenode:8020/gw/word_counts/hadoop/yesterday/2026-11-20/books-3: "
            "HDFS output needs Hadoop streaming; set [hadoop] streaming_jar"
        )
        with ConfigOverride("hadoop", "streaming_jar", "/opt/hadoop/streaming.jar"):
            runner = job.job_runner()
            assert type(runner) is luigi_hadoop.DefaultHadoopJobRunner
            assert runner.streaming_jar == "/opt/hadoop/streaming.jar"


@pytest.mark.parametrize("split_bytes", [1, 2, 3, 7, 16, 1000])
def test_splits_give_every_line_exactly_once(tmp_path: Path, split_bytes: int) -> None:
    lines = ["a\n", "\n", "ünïcödé line\n", "x" * 20 + "\n", "last\n"]
    first, second = tmp_path / "one.txt", tmp_path / "two.txt"
    first.write_text("".join(lines), encoding="utf-8")
    second.write_text("b\n", encoding="utf-8")
    runner = StreamingLocalJobRunner(processes=1, split_bytes=split_bytes)
    splits = runner.splits([str(first), str(second)])
    assert splits[0] == (str(first), 0, min(split_bytes, first.stat().st_size))
    assert splits[-1] == (str(second), 2 - min(split_bytes, 2), 2)
    assert [line for split in splits for line in split_lines(*split)] == [*lines, "b\n"]
