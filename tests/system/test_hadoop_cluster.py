"""scripts/hadoop-cluster: a real Hadoop on 127.0.0.1 (Hadoop 3.5.0's MiniDFSCluster and
MiniMRYarnCluster), checked through the NameNode's WebHDFS REST API and the ResourceManager's REST API.
The pipeline on it is tests/system/test_hadoop_pipeline.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.system.hadoop import HADOOP, cluster_command, get_json, listing, start_cluster, webhdfs_read

pytestmark = pytest.mark.hadoop


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


def test_start_writes_the_addresses_and_both_services_are_up(hadoop_cluster: dict[str, Any]) -> None:
    cluster = hadoop_cluster
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


def test_a_second_start_is_refused(hadoop_cluster: dict[str, Any]) -> None:
    cluster = hadoop_cluster
    again = cluster_command(cluster["dir"], "start")
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"hadoop-cluster: a cluster started from {cluster['dir']} is still running ({cluster['hdfs']})"
    )


def test_the_hadoop_command_and_webhdfs_see_the_same_files(
    hadoop_cluster: dict[str, Any], tmp_path: Path
) -> None:
    cluster = hadoop_cluster
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


def test_stop_ends_only_what_it_started(tmp_path: Path) -> None:
    cluster = start_cluster(tmp_path)
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
