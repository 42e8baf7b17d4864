"""An hdfs:// storage root, tested as far as possible without an HDFS: targets, clients, paths, config,
and the spark-submit command line. Nothing here talks to a namenode."""

from __future__ import annotations

import datetime

import luigi
import pytest
from luigi.contrib.hdfs import HdfsTarget

from pipeline import storage
from pipeline.config import JOBS_DIR
from pipeline.corpus import CorpusParquet, CorpusText
from pipeline.fetch import TopBooks
from pipeline.hdfs import ReadableWebHdfsTarget, UriWebHdfsClient, split_uri
from pipeline.mapreduce import TopWordsHadoop, WordCountHadoop
from pipeline.spark import TopWordsSpark, WordCountSpark, jobs_archive
from tests.support import ConfigOverride

DAY = datetime.date(2026, 11, 20)
ROOT = "hdfs://namenode:8020/user/gw"
RUN = "yesterday/2026-11-20/books-2"


@pytest.fixture
def hdfs_root():
    with ConfigOverride("storage", "root", ROOT):
        yield


def test_project_config_selects_webhdfs_on_the_hadoop_3_port() -> None:
    from luigi.contrib.hdfs.config import get_configured_hdfs_client
    from luigi.contrib.hdfs.webhdfs_client import webhdfs

    assert get_configured_hdfs_client() == "webhdfs"
    assert (webhdfs().port, webhdfs().client_type) == (9870, "insecure")


def test_pipeline_targets_are_webhdfs_targets_named_by_uri(hdfs_root) -> None:
    outputs = {
        "top_books": TopBooks(date=DAY).output(),
        "corpus": CorpusParquet(date=DAY, n_books=2).output(),
        "corpus_text": CorpusText(date=DAY, n_books=2).output(),
        "word_counts": WordCountSpark(date=DAY, n_books=2).output(),
        "report": TopWordsSpark(date=DAY, n_books=2).output()["csv"],
    }
    assert {name: type(target) for name, target in outputs.items()} == dict.fromkeys(
        outputs, ReadableWebHdfsTarget
    )
    assert {name: target.path for name, target in outputs.items()} == {
        "top_books": f"{ROOT}/top_books/yesterday/2026-11-20.json",
        "corpus": f"{ROOT}/corpus/{RUN}",
        "corpus_text": f"{ROOT}/corpus_text/{RUN}",
        "word_counts": f"{ROOT}/word_counts/spark/{RUN}",
        "report": f"{ROOT}/top_words/spark/{RUN}/top-50_stop-english.csv",
    }
    client = outputs["corpus"].fs
    assert isinstance(client, UriWebHdfsClient)
    assert client.url == "http://namenode:9870"


def test_client_turns_uris_into_namenode_paths() -> None:
    client = UriWebHdfsClient("namenode:8020")
    assert client.namenode_path(f"{ROOT}/corpus/{RUN}") == f"/user/gw/corpus/{RUN}"
    assert client.namenode_path("hdfs://namenode:8020") == "/"
    assert client.namenode_path("/already/a/path") == "/already/a/path"
    # HdfsCLI resolves every path it sends; resolving absolute paths needs no namenode.
    assert client.client.resolve(f"{ROOT}/raw/11/pg11.txt") == "/user/gw/raw/11/pg11.txt"
    assert client.client.url == "http://namenode:9870"


def test_uri_must_name_a_namenode() -> None:
    assert split_uri("hdfs://nn.example.com:8020/data") == ("nn.example.com:8020", "/data")
    with pytest.raises(ValueError) as error:
        split_uri("hdfs:///data")
    assert str(error.value) == "hdfs:///data: not an hdfs://namenode[:port]/path URI"


def test_hadoop_engine_gets_hdfs_targets_for_streaming(hdfs_root) -> None:
    # luigi.contrib.hadoop's streaming runner accepts only HdfsTarget inputs and outputs.
    streaming = WordCountHadoop(date=DAY, n_books=2).streaming_target()
    assert type(streaming) is HdfsTarget
    assert streaming.path == f"{ROOT}/word_counts/hadoop/{RUN}-streaming"
    # The word-count table it becomes is an ordinary target, like every engine's.
    output = WordCountHadoop(date=DAY, n_books=2).output()
    assert type(output) is ReadableWebHdfsTarget
    assert output.path == f"{ROOT}/word_counts/hadoop/{RUN}"
    assert type(TopWordsHadoop(date=DAY, n_books=2).output()["json"]) is ReadableWebHdfsTarget
    assert type(storage.target(f"{ROOT}/x", hadoop=True)) is HdfsTarget


def test_hadoopcli_client_gives_hdfs_targets(hdfs_root) -> None:
    with ConfigOverride("hdfs", "client", "hadoopcli"):
        assert type(CorpusParquet(date=DAY, n_books=2).output()) is HdfsTarget


def test_spark_submit_gets_the_hdfs_uris_unchanged(hdfs_root) -> None:
    task = WordCountSpark(date=DAY, n_books=2)
    # What temporary_path() hands the job: the output URI with a suffix, renamed when spark-submit succeeds.
    task._output_tmp = f"{ROOT}/word_counts/spark/{RUN}-luigi-tmp-000000001"
    # The builtin tokenizer needs no jar (the unit layer compiles nothing).
    with ConfigOverride("spark", "tokenizer", "builtin"):
        assert task.app_command() == [
            str(JOBS_DIR / "word_count.py"),
            f"{ROOT}/corpus/{RUN}",
            f"{ROOT}/word_counts/spark/{RUN}-luigi-tmp-000000001",
            "--analysis",
            "--tokenizer=builtin",
        ]
    with ConfigOverride("spark", "master", "yarn"), ConfigOverride("spark", "tokenizer", "builtin"):
        command = task.spark_command()
    assert "--jars" not in command
    assert command[:5] == [task.spark_submit, "--master", "yarn", "--deploy-mode", "client"]
    assert command[command.index("--py-files") + 1] == jobs_archive()
    # On a cluster the executors' Python is the cluster's; only local masters pin this interpreter.
    assert not any(arg.startswith("spark.pyspark.python=") for arg in command)


def test_local_root_still_gives_local_targets(tmp_path) -> None:
    with ConfigOverride("storage", "root", str(tmp_path)):
        assert type(CorpusParquet(date=DAY, n_books=2).output()) is luigi.LocalTarget


def test_hadoop_command_targets_publish_by_rename(hdfs_root) -> None:
    from pipeline.hdfs import HadoopCliClient

    assert type(storage.target(f"{ROOT}/x", hadoop=True).fs) is HadoopCliClient
    with ConfigOverride("hdfs", "client", "hadoopcli"):
        assert type(storage.target(f"{ROOT}/x").fs) is HadoopCliClient


def test_an_unreachable_datanode_is_one_line_naming_the_uri() -> None:
    import requests

    client = UriWebHdfsClient("namenode:8020")
    refused = requests.ConnectionError(
        "HTTPConnectionPool(host='10.0.0.7', port=9864): Max retries exceeded (Caused by "
        'NewConnectionError("...: Failed to establish a new connection: [Errno 111] Connection refused"))'
    )
    error = client.unavailable(
        "http://10.0.0.7:9864/webhdfs/v1/user/gw/raw/11/pg11.txt?op=CREATE", {}, refused
    )
    assert str(error) == (
        "hdfs://namenode:8020/user/gw/raw/11/pg11.txt: cannot write: "
        "HDFS DataNode 10.0.0.7:9864 unreachable (Connection refused)"
    )
    listed = client.unavailable("http://namenode:9870/webhdfs/v1/user/gw", {"op": "LISTSTATUS"}, refused)
    assert str(listed) == (
        "hdfs://namenode:8020/user/gw: cannot look up: "
        "HDFS NameNode namenode:9870 unreachable (Connection refused)"
    )


def test_the_luigi_config_of_raw_hadoop_keys_warns_of_nothing() -> None:
    import warnings

    from pipeline.mapreduce import luigi_hadoop

    with ConfigOverride("hadoop", "streaming_jar", "/x.jar"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        import pipeline  # noqa: F401 - installs the filter once more, which must be harmless
        from pipeline.luigi_internals import ignore_raw_hadoop_keys

        ignore_raw_hadoop_keys()
        luigi_hadoop.hadoop._unconsumed_params = set()
        luigi_hadoop.hadoop()
    assert [str(w.message) for w in caught] == []
