"""Crashes and faults on an hdfs:// root (the session's mini cluster): the run killed while Spark writes to
HDFS, and the DataNode stopped mid-run. What is left is read through WebHDFS, never through the pipeline."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    REPO,
    MirrorServer,
    expected_top_words_csv,
    kill_session,
    run_luigi,
    session_processes,
    start_luigi,
    wait_until,
)
from tests.system.hadoop import (
    DAY,
    REPORT,
    RUN,
    TOP3,
    cluster_command,
    hdfs_args,
    listing,
    tree,
    webhdfs_read,
)

pytestmark = [pytest.mark.hadoop, pytest.mark.spark]


def test_killed_while_spark_writes_to_hdfs_then_rerun(
    hadoop_cluster: dict[str, Any], mirror: MirrorServer, tmp_path: Path
) -> None:
    cluster = hadoop_cluster
    args = hdfs_args("TopWordsSpark", mirror, cluster, "/killed")
    parent = f"/killed/word_counts/spark/yesterday/{DAY}"

    def spark_is_writing() -> bool:
        partial = [name for name in listing(cluster, parent) if "-luigi-tmp-" in name]
        return bool(partial) and "_temporary" in listing(cluster, f"{parent}/{partial[0]}")

    run = start_luigi(*args, log=tmp_path / "killed.log")
    try:
        wait_until(spark_is_writing, "Spark writing its output on HDFS", timeout=300)
    finally:
        kill_session(run.pid)
        run.wait()
    wait_until(lambda: not session_processes(run.pid), "the killed run's processes to end", timeout=30)

    # Nothing that looks complete: no word counts at their path, no report.
    assert [name for name in listing(cluster, parent) if "-luigi-tmp-" not in name] == []
    assert listing(cluster, "/killed/top_words") == []
    downloaded = listing(cluster, "/killed/raw")
    assert downloaded == sorted(str(i) for i in TOP3)

    mirror.requests.clear()
    rerun = run_luigi(*args, cwd=REPO)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert mirror.requests == []  # the books were kept
    assert webhdfs_read(cluster, f"/killed/top_words/spark/{RUN}/{REPORT}.csv").decode() == (
        expected_top_words_csv(TOP3, 50, "english")
    )
    assert [name for name in listing(cluster, parent) if "-luigi-tmp-" not in name] == ["books-3"]


def test_datanode_stopped_mid_run_fails_in_one_line_then_a_rerun_completes(
    hadoop_cluster: dict[str, Any], mirror: MirrorServer
) -> None:
    cluster = hadoop_cluster
    args = hdfs_args("TopWordsSpark", mirror, cluster, "/datanode")
    books = [f"/cache/epub/{i}/pg{i}.txt" for i in TOP3]
    served: list[str] = []
    lock = threading.Lock()

    def stop_datanode_on_second_book(path: str):  # a MirrorServer override
        def reply() -> None:
            with lock:
                served.append(path)
                if len(served) == 2:
                    stopped = cluster_command(cluster["dir"], "datanode", "stop")
                    assert stopped.returncode == 0, stopped.stderr
            return None  # serve the book itself

        return reply

    for path in books:
        mirror.overrides[path] = stop_datanode_on_second_book(path)
    try:
        failed = run_luigi(*args, cwd=REPO)
    finally:
        started = cluster_command(cluster["dir"], "datanode", "start")
    assert started.returncode == 0, started.stderr
    assert failed.returncode == 30, failed.stderr[-3000:]
    assert "Traceback" not in failed.stderr
    first, second = (int(p.split("/")[3]) for p in served[:2])
    errors = [line for line in failed.stderr.splitlines() if line.startswith("ERROR")]
    pattern = (
        rf"ERROR: DownloadBook\(book_id={second}\): {re.escape(cluster['hdfs'])}/datanode/raw/{second}/\S+: "
        r"cannot write: HDFS DataNode 127\.0\.0\.1:\d+ unreachable \(Connection refused\)"
    )
    assert errors and re.fullmatch(pattern, errors[0]), errors
    assert len(errors) == len(served) - 1  # one line per book that could not be stored
    # Nothing is marked done past the fault: only the first book has its download record.
    assert listing(cluster, f"/datanode/raw/{first}") == ["download.json", f"pg{first}.txt"]
    assert "download.json" not in listing(cluster, f"/datanode/raw/{second}")
    assert listing(cluster, "/datanode/corpus") == [] and listing(cluster, "/datanode/top_words") == []
    assert not [p for p in tree(cluster, "/datanode") if "-luigi-tmp-" in p]

    mirror.overrides.clear()
    mirror.requests.clear()
    rerun = run_luigi(*args, cwd=REPO)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert sorted(mirror.requests) == sorted(p for p in books if int(p.split("/")[3]) != first)
    assert webhdfs_read(cluster, f"/datanode/top_words/spark/{RUN}/{REPORT}.csv").decode() == (
        expected_top_words_csv(TOP3, 50, "english")
    )
