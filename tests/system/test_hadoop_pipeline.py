"""The pipeline on a real Hadoop (one mini cluster for the session, tests/system/conftest.py): every engine
on an hdfs:// storage root, Spark on the local master and on YARN, Hadoop streaming, mrjob's hadoop runner,
and both of Luigi's HDFS clients. Every check reads HDFS through the NameNode's WebHDFS REST API and YARN
through the ResourceManager's, and counts are computed here from the mirror with the pure-Python rules."""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.support import (
    REPO,
    ConfigOverride,
    MirrorServer,
    expected_top_words_csv,
    mirror_body,
    mirror_dir,
    offline_args,
    run_luigi,
)
from tests.system.hadoop import (
    DAY,
    HADOOP,
    REPORT,
    RUN,
    TOP3,
    applications,
    hadoop_environment,
    hdfs_args,
    listing,
    streaming_jar,
    tree,
    webhdfs,
    webhdfs_read,
)

pytestmark = pytest.mark.hadoop


def new_applications(
    cluster: dict[str, Any], before: list[dict[str, Any]]
) -> list[tuple[str, str, str, str]]:
    """(type, name, state, final status) of the applications YARN ran since `before`."""
    seen = {app["id"] for app in before}
    found = [app for app in applications(cluster) if app["id"] not in seen]
    return [(a["applicationType"], a["name"], a["state"], a["finalStatus"]) for a in found]


def spark_lines(stderr: str) -> str:
    """What explains a failed Spark run: its WARN, ERROR and exception lines (the tail of stderr is Luigi's
    dump of spark-submit's environment)."""
    keys = (" WARN ", " ERROR ", "Exception", "Error", "ERROR:")
    return "\n".join(line[:500] for line in stderr.splitlines() if any(k in line for k in keys))[-6000:]


def spark_on_yarn_config(path: Path) -> None:
    """Spark's jars and Python for YARN containers on this host: the NodeManager runs here, so `local:`
    jars (nothing uploaded per run), this venv's Python, and the driver on loopback."""
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    conf = [
        "spark.sql.shuffle.partitions=8",
        "spark.ui.showConsoleProgress=false",
        f"spark.yarn.jars=local:{jars}/*",
        f"spark.pyspark.python={sys.executable}",
        # The containers run on this host: they call the driver back on loopback, not on the address
        # Spark picks for the machine's name (once, in CI, every call to that one was refused).
        "spark.driver.host=127.0.0.1",
        "spark.driver.bindAddress=127.0.0.1",
        "spark.executor.instances=1",
        "spark.executor.cores=2",
        "spark.executor.memory=1g",
    ]
    with path.open("a") as config:
        config.write("[spark]\nconf = " + "|".join(conf) + "\n")


@pytest.mark.spark
def test_top_words_spark_on_hdfs_equals_the_local_run_and_reruns_as_a_no_op(
    hadoop_cluster: dict[str, Any], mirror: MirrorServer, spark_submit_log, tmp_path: Path
) -> None:
    cluster = hadoop_cluster
    wrapper, log = spark_submit_log
    submit = ["--spark-spark-submit", str(wrapper)]
    local_root = tmp_path / "local"
    local = run_luigi(
        "TopWordsSpark", *offline_args(mirror.url, local_root, n_books=3, date=DAY), *submit, cwd=REPO
    )
    assert local.returncode == 0, local.stderr[-3000:]
    local_csv = (local_root / "top_words" / "spark" / RUN / f"{REPORT}.csv").read_bytes()
    assert local_csv.decode() == expected_top_words_csv(TOP3, 50, "english")

    first = run_luigi(*hdfs_args("TopWordsSpark", mirror, cluster, "/gw", *submit), cwd=REPO)
    assert first.returncode == 0, first.stderr[-3000:]
    assert listing(cluster, "/gw") == ["corpus", "raw", "timings", "top_books", "top_words", "word_counts"]
    assert listing(cluster, "/gw/top_books/yesterday") == [f"{DAY}.json"]
    assert listing(cluster, "/gw/raw") == sorted(str(i) for i in TOP3)
    for book_id in TOP3:
        assert listing(cluster, f"/gw/raw/{book_id}") == ["download.json", f"pg{book_id}.txt"]
        raw = (mirror_dir() / "cache" / "epub" / str(book_id) / f"pg{book_id}.txt").read_bytes()
        assert webhdfs_read(cluster, f"/gw/raw/{book_id}/pg{book_id}.txt") == raw
    assert listing(cluster, f"/gw/corpus/{RUN}") == ["_books.json", "part-00000.parquet"]
    corpus = pq.read_table(io.BytesIO(webhdfs_read(cluster, f"/gw/corpus/{RUN}/part-00000.parquet")))
    assert sorted(zip(corpus["book_id"].to_pylist(), corpus["text"].to_pylist(), strict=True)) == sorted(
        (book_id, mirror_body(book_id)) for book_id in TOP3
    )
    counts = listing(cluster, f"/gw/word_counts/spark/{RUN}")
    assert counts[:2] == ["_SUCCESS", "_analysis"] and all(n.startswith("part-") for n in counts[2:])
    assert listing(cluster, f"/gw/top_words/spark/{RUN}") == [
        f"{REPORT}.{ext}" for ext in ("csv", "html", "json", "png")
    ]
    report = f"/gw/top_words/spark/{RUN}/{REPORT}"
    assert webhdfs_read(cluster, report + ".csv") == local_csv
    assert webhdfs_read(cluster, report + ".png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert webhdfs_read(cluster, report + ".html").startswith(b"<!DOCTYPE html>")
    # Nothing half-written is left beside the outputs.
    assert not [p for p in tree(cluster, "/gw") if "-luigi-tmp-" in p or "_temporary" in p]
    assert len(log.read_text().splitlines()) == 2

    mirror.requests.clear()
    again = run_luigi(*hdfs_args("TopWordsSpark", mirror, cluster, "/gw", *submit), cwd=REPO)
    assert again.returncode == 0, again.stderr[-3000:]
    assert mirror.requests == []
    assert len(log.read_text().splitlines()) == 2


@pytest.mark.spark
def test_top_words_spark_on_yarn(
    hadoop_cluster: dict[str, Any], mirror: MirrorServer, spark_submit_log, tmp_path: Path
) -> None:
    cluster = hadoop_cluster
    wrapper, log = spark_submit_log
    env = hadoop_environment(cluster, tmp_path / "luigi.cfg")
    spark_on_yarn_config(tmp_path / "luigi.cfg")
    before = applications(cluster)
    args = hdfs_args("TopWordsSpark", mirror, cluster, "/yarn", "--spark-master", "yarn")
    result = run_luigi(*args, "--spark-spark-submit", str(wrapper), cwd=REPO, env=env)
    assert result.returncode == 0, spark_lines(result.stderr)
    assert webhdfs_read(cluster, f"/yarn/top_words/spark/{RUN}/{REPORT}.csv").decode() == (
        expected_top_words_csv(TOP3, 50, "english")
    )
    assert new_applications(cluster, before) == [("SPARK", "gutenberg-wordcount", "FINISHED", "SUCCEEDED")]
    assert log.read_text().split()[:2] == ["--master", "yarn"]


def test_top_words_hadoop_on_hadoop_streaming(
    hadoop_cluster: dict[str, Any], mirror: MirrorServer, tmp_path: Path
) -> None:
    cluster = hadoop_cluster
    env = hadoop_environment(cluster, tmp_path / "luigi.cfg")
    before = applications(cluster)
    args = hdfs_args("TopWordsHadoop", mirror, cluster, "/streaming", "--WordCountHadoop-n-reduce-tasks", "2")
    result = run_luigi(*args, cwd=REPO, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert webhdfs_read(cluster, f"/streaming/top_words/hadoop/{RUN}/{REPORT}.csv").decode() == (
        expected_top_words_csv(TOP3, 50, "english")
    )
    job_name = f"WordCountHadoop(date={DAY}, period=yesterday, n_books=3)"
    assert new_applications(cluster, before) == [("MAPREDUCE", job_name, "FINISHED", "SUCCEEDED")]
    # The streaming job's scratch directory is gone; the table is the one word-count format.
    assert listing(cluster, f"/streaming/word_counts/hadoop/yesterday/{DAY}") == ["books-3"]
    assert listing(cluster, f"/streaming/word_counts/hadoop/{RUN}") == ["part-00000.parquet"]
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr


def test_top_words_mr_on_mrjobs_hadoop_runner(
    hadoop_cluster: dict[str, Any], mirror: MirrorServer, tmp_path: Path
) -> None:
    cluster = hadoop_cluster
    env = hadoop_environment(cluster, tmp_path / "luigi.cfg")
    conf = tmp_path / "mrjob.conf"
    conf.write_text(
        "runners:\n  hadoop:\n"
        f"    hadoop_bin: {HADOOP}\n"
        f"    hadoop_streaming_jar: {streaming_jar()}\n"
        f"    python_bin: {sys.executable}\n"
        "    check_input_paths: true\n"
    )
    before = applications(cluster)
    args = hdfs_args(
        "TopWordsMR", mirror, cluster, "/mrjob", "--runner", "hadoop", "--mrjob-conf-path", str(conf)
    )
    result = run_luigi(*args, cwd=REPO, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert webhdfs_read(cluster, f"/mrjob/top_words/mrjob/{RUN}/{REPORT}.csv").decode() == (
        expected_top_words_csv(TOP3, 50, "english")
    )
    [(kind, name, state, status)] = new_applications(cluster, before)
    # mrjob names no job: Hadoop streaming calls it after its job jar.
    assert (kind, name[:9], state, status) == ("MAPREDUCE", "streamjob", "FINISHED", "SUCCEEDED")


def test_hadoopcli_client_runs_a_task(
    hadoop_cluster: dict[str, Any], mirror: MirrorServer, tmp_path: Path
) -> None:
    """`[hdfs] client = hadoopcli`: every file operation of the run is a `hadoop fs` command (about 2 s of
    JVM each, which is why only TopBooks runs here; the targets test below covers the rest)."""
    cluster = hadoop_cluster
    env = hadoop_environment(cluster, tmp_path / "luigi.cfg")
    args = hdfs_args("TopBooks", mirror, cluster, "/cli", n_books=None)
    result = run_luigi(*args, "--hdfs-client", "hadoopcli", cwd=REPO, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Warning" not in result.stderr
    assert listing(cluster, "/cli") == ["timings", "top_books"]
    assert listing(cluster, "/cli/top_books/yesterday") == [f"{DAY}.json"]
    record = json.loads(webhdfs_read(cluster, f"/cli/top_books/yesterday/{DAY}.json"))
    assert [book["book_id"] for book in record["books"]][:3] == TOP3
    again = run_luigi(*args, "--hdfs-client", "hadoopcli", cwd=REPO, env=env)
    assert again.returncode == 0 and mirror.requests.count("/browse/scores/top") == 1


@pytest.mark.parametrize("client", ["webhdfs", "hadoopcli"])
def test_storage_targets_on_both_hdfs_clients(hadoop_cluster: dict[str, Any], client: str) -> None:
    """The target operations the pipeline relies on, through each client, seen through WebHDFS."""
    from pipeline import storage

    cluster = hadoop_cluster
    port = cluster["webhdfs"].rsplit(":", 1)[1]
    base = f"/targets-{client}"
    settings = [("storage", "root", cluster["hdfs"] + base), ("webhdfs", "port", port),
                ("hdfs", "client", client), ("hadoop", "command", str(HADOOP))]  # fmt: skip
    with contextlib.ExitStack() as stack:
        for section, key, value in settings:
            stack.enter_context(ConfigOverride(section, key, value))
        stack.enter_context(pytest.MonkeyPatch.context()).setenv("HADOOP_CONF_DIR", cluster["conf_dir"])
        record = storage.target(storage.download_record_path(7))
        assert not record.exists()
        with record.open("w") as handle:
            handle.write('{"word": "Wörter"}\n')
        assert record.exists()
        with record.open("r") as handle:
            assert handle.read() == '{"word": "Wörter"}\n'
        table = storage.target(storage.word_counts_path("spark", datetime.date(2026, 11, 20), "yesterday", 1))
        with table.temporary_path() as tmp:
            storage.target(tmp + "/part-00000").fs.mkdir(tmp)
            with storage.target(tmp + "/part-00000").open("w") as part:
                part.write("a\t1\n")
        assert table.exists()
    assert webhdfs_read(cluster, f"{base}/raw/7/download.json") == '{"word": "Wörter"}\n'.encode()
    run = f"{base}/word_counts/spark/yesterday/2026-11-20"
    assert listing(cluster, run) == ["books-1"]
    assert webhdfs_read(cluster, f"{run}/books-1/part-00000") == b"a\t1\n"
    assert webhdfs(cluster, f"{run}/books-1", "GETFILESTATUS")["FileStatus"]["type"] == "DIRECTORY"
