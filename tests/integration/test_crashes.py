"""Crashes and damage: SIGKILL mid-download and mid-Spark then rerun, Ctrl-C, truncated outputs."""

from __future__ import annotations

import datetime
import json
import os
import signal
import time
from pathlib import Path

import pytest

from jobs import textrules
from tests.support import (
    REPO,
    MirrorServer,
    kill_session,
    mirror_body,
    mirror_dir,
    offline_args,
    run_luigi,
    session_processes,
    start_luigi,
    wait_until,
)

DAY = datetime.date(2026, 11, 20)
TOP5 = [1342, 1232, 11, 76, 2591]
RUN = f"yesterday/{DAY.isoformat()}"


def finished_downloads(root: Path) -> set[int]:
    return {int(p.parent.name) for p in root.glob("raw/*/download.json")}


def book_requests(requests: list[str]) -> list[int]:
    return sorted(int(r.split("/")[3]) for r in requests if r.startswith("/cache/epub/"))


def full_table_csv(book_ids: list[int]) -> str:
    counts = textrules.count_words(mirror_body(i) for i in book_ids)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return "rank,word,count\n" + "".join(f"{r},{w},{c}\n" for r, (w, c) in enumerate(ranked, start=1))


def common(server: MirrorServer, root: Path, n_books: int) -> list[str]:
    return offline_args(server.url, root, n_books, DAY.isoformat())


@pytest.mark.spark
def test_sigkill_during_downloads_and_during_spark_then_rerun(tmp_path: Path, spark_submit_log) -> None:
    wrapper, submitted = spark_submit_log
    root = tmp_path / "data"
    with MirrorServer(mirror_dir()) as server:
        args = ["TopWordsSpark", *common(server, root, 5), "--n-words", "0", "--stopwords", "none"]
        args += ["--spark-spark-submit", str(wrapper)]
        # One download a second, so the kill lands while downloads are in flight.
        slow = [*args, "--gutenberg-delay-seconds", "1"]

        first = start_luigi(*slow, log=tmp_path / "first.log")
        wait_until(lambda: len(finished_downloads(root)) >= 2, "two downloads")
        first.send_signal(signal.SIGKILL)
        first.wait()
        kill_session(first.pid)
        done_first = finished_downloads(root)
        assert 2 <= len(done_first) < 5
        first_requests = list(server.requests)
        server.requests.clear()

        second = start_luigi(*slow, log=tmp_path / "second.log")
        wait_until(submitted.exists, "spark-submit to start")
        time.sleep(3)  # well inside the Spark job
        second.send_signal(signal.SIGKILL)
        second.wait()
        kill_session(second.pid)  # SIGKILL cannot be handled: the orphaned JVM is the caller's to stop
        second_requests = list(server.requests)
        server.requests.clear()

        third = run_luigi(*args, cwd=REPO)
        third_requests = list(server.requests)
    assert third.returncode == 0, third.stderr[-3000:]

    # Every book was fetched once over the three runs: nothing finished was fetched again.
    assert set(book_requests(second_requests)) == set(TOP5) - done_first
    assert sorted(book_requests(first_requests) + book_requests(second_requests)) == sorted(
        set(book_requests(first_requests)) | set(TOP5)
    )
    assert third_requests == []
    report = root / "top_words" / "spark" / RUN / "books-5" / "top-0_stop-none.csv"
    assert report.read_text(encoding="utf-8") == full_table_csv(TOP5)
    assert len(submitted.read_text().splitlines()) == 2


@pytest.mark.spark
def test_ctrl_c_stops_spark_submit_and_its_jvm(tmp_path: Path, spark_submit_log) -> None:
    wrapper, _ = spark_submit_log
    root = tmp_path / "data"
    with MirrorServer(mirror_dir()) as server:
        args = ["TopWordsSpark", *common(server, root, 3), "--spark-spark-submit", str(wrapper)]
        run = start_luigi(*args, log=tmp_path / "run.log")
        try:
            wait_until(
                lambda: any("java" in cmd for _, cmd in session_processes(run.pid)), "the Spark JVM to start"
            )
            interrupted = time.monotonic()
            run.send_signal(signal.SIGINT)
            run.wait(timeout=20)
            stopped_after = time.monotonic() - interrupted
            wait_until(lambda: session_processes(run.pid) == [], "no process left in the run's session", 10)
        finally:
            kill_session(run.pid)
    assert stopped_after < 10
    assert run.returncode == -signal.SIGINT
    assert not (root / "word_counts" / "spark" / RUN / "books-3").exists()


def test_truncated_raw_book_is_downloaded_again(tmp_path: Path) -> None:
    root = tmp_path / "data"
    with MirrorServer(mirror_dir()) as server:
        first = run_luigi("CorpusParquet", *common(server, root, 2), cwd=REPO)
        assert first.returncode == 0, first.stderr[-3000:]
        raw = root / "raw" / "1342" / "pg1342.txt"
        size = raw.stat().st_size
        os.truncate(raw, size // 2)
        server.requests.clear()

        second = run_luigi("CorpusParquet", *common(server, root, 3), cwd=REPO)
        requests = list(server.requests)
    assert second.returncode == 0, second.stderr[-3000:]
    assert book_requests(requests) == [11, 1342]
    assert (
        f"{raw}: {size // 2} bytes on disk, {size} downloaded (checksum differs); downloading it again"
        in second.stderr
    )
    assert raw.stat().st_size == size
    import pyarrow.parquet as pq

    table = pq.read_table(root / "corpus" / RUN / "books-3", columns=["book_id", "body_chars"])
    assert dict(zip(*table.to_pydict().values(), strict=True)) == {
        i: len(mirror_body(i)) for i in (1342, 1232, 11)
    }


def damaged_parquet_error(task: str, path: Path, what: str, stderr: str) -> str:
    [line] = [line for line in stderr.splitlines() if line.startswith(f"ERROR: {task}(")]
    assert line.startswith(f"ERROR: {task}(date={DAY.isoformat()}, period=yesterday, n_books=2")
    assert f"): {path}: not a readable Parquet file (" in line
    return line.split(f"{path}: not a readable Parquet file (", 1)[1].rsplit(")", 1)[1]


def test_truncated_corpus_parquet_fails_with_what_to_delete(tmp_path: Path, spark_submit_log) -> None:
    wrapper, submitted = spark_submit_log
    root = tmp_path / "data"
    with MirrorServer(mirror_dir()) as server:
        built = run_luigi("CorpusParquet", *common(server, root, 2), cwd=REPO)
        assert built.returncode == 0, built.stderr[-3000:]
        corpus = root / "corpus" / RUN / "books-2"
        part = corpus / "part-00000.parquet"
        os.truncate(part, part.stat().st_size // 2)

        text = run_luigi("CorpusText", *common(server, root, 2), cwd=REPO)
        spark = run_luigi(
            "WordCountSpark", *common(server, root, 2), "--spark-spark-submit", str(wrapper), cwd=REPO
        )
    for task, result in (("CorpusText", text), ("WordCountSpark", spark)):
        assert result.returncode == 30
        tail = damaged_parquet_error(task, part, "corpus", result.stderr)
        assert tail == f"; the corpus is damaged: delete {corpus} and rerun"
    assert not submitted.exists()  # refused before spark-submit
    assert not (root / "corpus_text").exists()


def test_truncated_word_counts_fail_with_what_to_delete(tmp_path: Path) -> None:
    root = tmp_path / "data"
    with MirrorServer(mirror_dir()) as server:
        args = ["TopWordsMR", *common(server, root, 2), "--runner", "inline"]
        built = run_luigi(*args, cwd=REPO)
        assert built.returncode == 0, built.stderr[-3000:]
        counts = root / "word_counts" / "mrjob" / RUN / "books-2"
        part = counts / "part-00000.parquet"
        os.truncate(part, 100)
        result = run_luigi(*args, "--n-words", "10", cwd=REPO)
    assert result.returncode == 30
    [line] = [line for line in result.stderr.splitlines() if line.startswith("ERROR: TopWordsMR(")]
    assert f"): {part}: not a readable Parquet file (" in line
    assert line.endswith(f"; the word count is damaged: delete {counts} and rerun")
    assert json.loads((root / "corpus" / RUN / "books-2" / "_books.json").read_text())["n_books"] == 2
