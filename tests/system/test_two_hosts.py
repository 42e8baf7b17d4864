"""Two hosts on one machine: a second network namespace (its own address, joined by a veth pair) with a
private /tmp runs the Spark worker; the driver, the Spark master and the Hadoop mini cluster stay on the
first host. TopWordsSpark on that standalone cluster with an hdfs:// root gives the exact counts, so no step
relies on a disk the hosts share; with a local root it fails with one clear line, never with wrong counts.

Needs root (ip netns, mount); CI runs as root."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    REPO,
    MirrorServer,
    expected_top_words_csv,
    kill_session,
    offline_args,
    run_luigi,
    session_processes,
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
    start_cluster,
    webhdfs_read,
)

pytestmark = [pytest.mark.hadoop, pytest.mark.spark]

HOST1 = "10.203.0.1"
HOST2 = "10.203.0.2"
SPARK_CLUSTER = REPO / "scripts" / "spark-cluster"


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True)


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def second_host() -> Iterator[str]:
    """A network namespace reachable at HOST2 from HOST1 (this host's end of the veth pair)."""
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("unshare"):
        pytest.skip("needs root and iproute2 (ip netns), util-linux (unshare)")
    name = f"gw-host2-{os.getpid()}"
    outside, inside = f"gw{os.getpid() % 100000}a", f"gw{os.getpid() % 100000}b"
    run("ip", "netns", "add", name)
    try:
        run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
        run("ip", "link", "set", inside, "netns", name)
        run("ip", "addr", "add", f"{HOST1}/24", "dev", outside)
        run("ip", "link", "set", outside, "up")
        run("ip", "netns", "exec", name, "ip", "addr", "add", f"{HOST2}/24", "dev", inside)
        run("ip", "netns", "exec", name, "ip", "link", "set", inside, "up")
        run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield name
    finally:
        subprocess.run(["ip", "link", "delete", outside], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)


@pytest.fixture(scope="module")
def two_host_cluster(second_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """HDFS on HOST1 (handing out HOST1 for its NameNode and DataNode), a Spark master on HOST1, and one
    Spark worker in the second namespace, with a tmpfs of its own on /tmp."""
    hadoop = start_cluster(tmp_path_factory.mktemp("hadoop-two-hosts"), "--host", HOST1)
    spark_dir = tmp_path_factory.mktemp("spark-master")
    port, webui = free_port(HOST1), free_port(HOST1)
    spark_args = [sys.executable, str(SPARK_CLUSTER), "--dir", str(spark_dir)]
    master = subprocess.run(
        [*spark_args, "start", "--workers", "0", "--host", HOST1, "--port", str(port),
         "--webui-port", str(webui)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert master.returncode == 0, master.stderr
    master_url, webui_url = f"spark://{HOST1}:{port}", f"http://{HOST1}:{webui}"
    spark_class = Path(sys.executable).parent / "spark-class"
    worker_command = (
        "mount -t tmpfs tmpfs /tmp && exec "
        f"{spark_class} org.apache.spark.deploy.worker.Worker --host {HOST2} --cores 2 --memory 2g "
        f"--work-dir /tmp/work --webui-port 0 {master_url}"
    )
    log = spark_dir / "worker-host2.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            ["ip", "netns", "exec", second_host, "unshare", "--mount", "--propagation", "private",
             "sh", "-c", worker_command],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "SPARK_LOCAL_IP": HOST2, "PYSPARK_PYTHON": sys.executable},
        )  # fmt: skip
    try:
        wait_until(lambda: master_state(webui_url).get("aliveworkers") == 1, "the worker on host 2", 120)
        yield {"hadoop": hadoop, "master": master_url, "webui": webui_url, "worker_pid": worker.pid}
    finally:
        kill_session(worker.pid)
        worker.wait()
        subprocess.run([*spark_args, "stop"], capture_output=True, check=False)
        cluster_command(hadoop["dir"], "stop")


def master_state(webui_url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"{webui_url}/json/", timeout=5) as response:
            return json.load(response)
    except OSError:
        return {}


def worker_java_pid(session: int) -> int:
    """The Worker JVM of the worker's session (ip netns exec -> unshare -> sh -> java)."""
    for pid, _ in session_processes(session):
        with contextlib.suppress(OSError):
            if b"org.apache.spark.deploy.worker.Worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
    raise AssertionError("no Worker JVM in the worker's session")


def sees(pid: int, path: Path) -> bool:
    """Whether `path` exists in the mount namespace of process `pid`."""
    return (
        subprocess.run(["nsenter", "-t", str(pid), "-m", "test", "-e", str(path)], check=False).returncode
        == 0
    )


def spark_settings(config: Path) -> None:
    config.write_text(
        "[spark]\nconf = "
        + "|".join(
            [
                "spark.sql.shuffle.partitions=8",
                "spark.ui.showConsoleProgress=false",
                f"spark.driver.host={HOST1}",
                f"spark.pyspark.python={sys.executable}",
                "spark.executor.memory=1g",
                # The NameNode knows the DataNode by its loopback address; clients on other hosts must
                # use the host name the DataNode was given (HOST1).
                "spark.hadoop.dfs.client.use.datanode.hostname=true",
            ]
        )
        + "\n"
    )


def test_spark_worker_on_another_host_counts_exactly_from_hdfs(
    two_host_cluster: dict[str, Any], mirror: MirrorServer, tmp_path: Path
) -> None:
    cluster = two_host_cluster
    hadoop = cluster["hadoop"]
    assert hadoop["hdfs"].startswith(f"hdfs://{HOST1}:") and hadoop["webhdfs"].startswith(f"http://{HOST1}:")
    config = tmp_path / "luigi.cfg"
    spark_settings(config)
    args = hdfs_args("TopWordsSpark", mirror, hadoop, "/two", "--spark-master", cluster["master"])
    result = run_luigi(*args, cwd=REPO, env={"LUIGI_CONFIG_PATH": str(config)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert webhdfs_read(hadoop, f"/two/top_words/spark/{RUN}/{REPORT}.csv").decode() == (
        expected_top_words_csv(TOP3, 50, "english")
    )
    # The work ran on the second host: the master's only worker is there, and it ran the application.
    state = master_state(cluster["webui"])
    assert [(w["host"], w["state"]) for w in state["workers"]] == [(HOST2, "ALIVE")]
    assert [(app["name"], app["state"]) for app in state["completedapps"]] == [
        ("gutenberg-wordcount", "FINISHED")
    ]
    # ... where none of this host's private files are: its /tmp is its own.
    worker = worker_java_pid(cluster["worker_pid"])
    assert sees(worker, REPO / "pyproject.toml") and not sees(worker, tmp_path)
    assert listing(hadoop, f"/two/word_counts/spark/{RUN}")[:2] == ["_SUCCESS", "_analysis"]


def test_a_local_root_on_another_hosts_worker_fails_in_one_line(
    two_host_cluster: dict[str, Any], mirror: MirrorServer, tmp_path: Path
) -> None:
    cluster = two_host_cluster
    config = tmp_path / "luigi.cfg"
    spark_settings(config)
    root = tmp_path / "local-root"
    args = [
        "TopWordsSpark",
        *offline_args(mirror.url, root, n_books=3, date=DAY),
        "--spark-master",
        cluster["master"],
    ]
    result = run_luigi(*args, cwd=REPO, env={"LUIGI_CONFIG_PATH": str(config)})
    assert result.returncode == 30, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-6000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    corpus = root / "corpus" / RUN
    assert errors == [
        f"ERROR: WordCountSpark(date={DAY}, period=yesterday, n_books=3): {corpus} is not visible to the "
        f"Spark executors ({cluster['master']}): a local storage root needs a local master or a file system "
        "every Spark host mounts at the same path; use an hdfs:// storage root"
    ]
    # The downloads and the corpus are kept; no counts and no report were written.
    assert sorted(p.name for p in (root / "raw").iterdir()) == sorted(str(i) for i in TOP3)
    assert (corpus / "_books.json").is_file()
    assert not (root / "word_counts").exists() or not [
        p for p in (root / "word_counts").rglob("*") if p.is_dir() and re.fullmatch(r"books-\d+", p.name)
    ]
    assert not (root / "top_words").exists()
