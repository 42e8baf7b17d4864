"""A real Hadoop on 127.0.0.1 (scripts/hadoop-cluster: Hadoop 3.5.0's MiniDFSCluster and MiniMRYarnCluster),
checked through the NameNode's WebHDFS REST API and the ResourceManager's REST API, and the pipeline on an
hdfs:// storage root of it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO, MirrorServer, expected_top_words_csv, offline_args, run_luigi

pytestmark = pytest.mark.hadoop

SCRIPT = REPO / "scripts" / "hadoop-cluster"
HADOOP = REPO / "scripts" / "hadoop" / "bin" / "hadoop"
DAY = "2026-11-20"
TOP3 = [1342, 1232, 11]


def cluster_command(
    directory: Path, *args: str, timeout: float = 300, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--dir", str(directory), *args],
        capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd,
    )  # fmt: skip


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def webhdfs(cluster: dict[str, Any], path: str, op: str) -> Any:
    return get_json(f"{cluster['webhdfs']}/webhdfs/v1{path}?op={op}")


def webhdfs_read(cluster: dict[str, Any], path: str) -> bytes:
    # OPEN answers with a redirect to the DataNode, which urllib follows.
    with urllib.request.urlopen(f"{cluster['webhdfs']}/webhdfs/v1{path}?op=OPEN", timeout=10) as response:
        return response.read()


def listing(cluster: dict[str, Any], path: str) -> list[str]:
    return sorted(f["pathSuffix"] for f in webhdfs(cluster, path, "LISTSTATUS")["FileStatuses"]["FileStatus"])


def process_state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    directory = tmp_path_factory.mktemp("hadoop-cluster")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    started = cluster_command(directory, "start", cwd=elsewhere)
    assert started.returncode == 0, started.stderr[-3000:]
    state = json.loads(started.stdout)
    yield {**state, "dir": directory, "cwd": elsewhere}
    cluster_command(directory, "stop")


def test_start_writes_the_addresses_and_both_services_are_up(cluster: dict[str, Any]) -> None:
    assert cluster["hdfs"].startswith("hdfs://127.0.0.1:")
    assert cluster["webhdfs"].startswith("http://127.0.0.1:")
    assert cluster["resourcemanager"].startswith("http://127.0.0.1:")
    assert cluster["hadoop_version"] == "3.5.0"
    assert sorted(os.listdir(cluster["conf_dir"])) == [
        "core-site.xml",
        "hdfs-site.xml",
        "mapred-site.xml",
        "yarn-site.xml",
    ]
    info = get_json(f"{cluster['webhdfs']}/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo")["beans"][0]
    assert info["Safemode"] == "" and info["Version"].startswith("3.5.0")
    assert json.loads(info["LiveNodes"]) and len(json.loads(info["LiveNodes"])) == 1
    assert get_json(f"{cluster['resourcemanager']}/ws/v1/cluster/info")["clusterInfo"]["state"] == "STARTED"
    nodes = get_json(f"{cluster['resourcemanager']}/ws/v1/cluster/nodes")["nodes"]["node"]
    assert [n["state"] for n in nodes] == ["RUNNING"]
    status = cluster_command(cluster["dir"], "status")
    assert status.returncode == 0
    assert json.loads(status.stdout) == {k: v for k, v in cluster.items() if k not in ("dir", "cwd")}
    # Everything the cluster writes is under --dir, nothing in the folder it was started from.
    assert os.listdir(cluster["cwd"]) == []
    assert {"hdfs", "yarn", "conf", "minicluster.log", "cluster.json"} <= set(os.listdir(cluster["dir"]))


def test_a_second_start_is_refused(cluster: dict[str, Any]) -> None:
    again = cluster_command(cluster["dir"], "start")
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"hadoop-cluster: a cluster started from {cluster['dir']} is still running ({cluster['hdfs']})"
    )


def test_the_hadoop_command_and_webhdfs_see_the_same_files(cluster: dict[str, Any], tmp_path: Path) -> None:
    env = {**os.environ, "HADOOP_CONF_DIR": cluster["conf_dir"]}
    version = subprocess.run([str(HADOOP), "version"], capture_output=True, text=True, env=env, check=True)
    assert version.stdout.splitlines()[0] == "Hadoop 3.5.0"
    local = tmp_path / "words.txt"
    local.write_text("zwei Wörter\n", encoding="utf-8")
    for args in (["-mkdir", "-p", "/checks"], ["-put", str(local), "/checks/words.txt"]):
        subprocess.run([str(HADOOP), "fs", *args], capture_output=True, env=env, check=True)
    assert listing(cluster, "/checks") == ["words.txt"]
    assert webhdfs_read(cluster, "/checks/words.txt") == "zwei Wörter\n".encode()
    ls = subprocess.run(
        [str(HADOOP), "fs", "-ls", "/checks"], capture_output=True, text=True, env=env, check=True
    )
    assert ls.stdout.splitlines()[-1].endswith(" /checks/words.txt")


@pytest.mark.spark
def test_top_words_spark_on_an_hdfs_root(
    cluster: dict[str, Any], mirror: MirrorServer, spark_submit_log
) -> None:
    wrapper, log = spark_submit_log
    root = f"{cluster['hdfs']}/gw"
    port = cluster["webhdfs"].rsplit(":", 1)[1]
    args = ["TopWordsSpark", *offline_args(mirror.url, Path("unused"), n_books=3, date=DAY)]
    args = [a for a in args if a not in ("--storage-root", "unused")]
    args += ["--storage-root", root, "--webhdfs-port", port, "--spark-spark-submit", str(wrapper)]
    first = run_luigi(*args, cwd=REPO)
    assert first.returncode == 0, first.stderr[-3000:]
    run = f"yesterday/{DAY}/books-3"
    assert listing(cluster, "/gw") == ["corpus", "raw", "timings", "top_books", "top_words", "word_counts"]
    assert listing(cluster, "/gw/raw") == sorted(str(i) for i in TOP3)
    assert listing(cluster, f"/gw/corpus/{run}") == ["_books.json", "part-00000.parquet"]
    assert "_SUCCESS" in listing(cluster, f"/gw/word_counts/spark/{run}")
    report = f"/gw/top_words/spark/{run}/top-50_stop-english"
    assert webhdfs_read(cluster, report + ".csv").decode() == expected_top_words_csv(TOP3, 50, "english")
    assert webhdfs_read(cluster, report + ".png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(log.read_text().splitlines()) == 1

    mirror.requests.clear()
    again = run_luigi(*args, cwd=REPO)
    assert again.returncode == 0, again.stderr[-3000:]
    assert mirror.requests == []
    assert len(log.read_text().splitlines()) == 1


def test_stop_ends_only_what_it_started(cluster: dict[str, Any]) -> None:
    stopped = cluster_command(cluster["dir"], "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip() == f"{cluster['hdfs']}: stopped 1 process"
    assert process_state(cluster["pid"]) in (None, "Z")  # gone, or a zombie its new parent has yet to reap
    assert cluster_command(cluster["dir"], "status").returncode == 3
    assert cluster_command(cluster["dir"], "stop").returncode == 3


def test_a_cluster_that_cannot_start_is_torn_down(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cluster_command(tmp_path, "start", "--hdfs-port", str(port), timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"hadoop-cluster: the Hadoop mini cluster exited while starting; see {tmp_path / 'minicluster.log'}"
    )
    assert not (tmp_path / "cluster.json").exists()
    log = (tmp_path / "minicluster.log").read_text()
    assert f"Problem binding to [localhost:{port}] java.net.BindException: Address already in use" in log
    assert not [pid for pid in os.listdir("/proc") if pid.isdigit() and str(tmp_path) in cmdline(int(pid))]
