"""The Hadoop mini cluster as tests see it: scripts/hadoop-cluster to start and stop it, and the two
independent ways in that the checks use, the NameNode's WebHDFS REST API and the ResourceManager's REST
API (never the pipeline's own storage code)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.support import REPO, MirrorServer, offline_args

SCRIPT = REPO / "scripts" / "hadoop-cluster"
HADOOP = REPO / "scripts" / "hadoop" / "bin" / "hadoop"
CLASSPATH = REPO / "scripts" / "hadoop" / "target" / "classpath.txt"
# The run most tests make: three books of one day's list, and its top-words report.
DAY = "2026-11-20"
TOP3 = [1342, 1232, 11]
RUN = f"yesterday/{DAY}/books-3"
REPORT = "top-50_stop-english"


def hdfs_args(
    task: str, mirror: MirrorServer, cluster: dict[str, Any], root: str, *extra: str, n_books: int | None = 3
) -> list[str]:
    """`task` with the offline flags on the cluster's HDFS under `root` (no --n-books when None)."""
    local = offline_args(mirror.url, Path("unused"), n_books=n_books, date=DAY)
    local = local[: local.index("--storage-root")]
    return [task, *local, *root_args(cluster, root), *extra]


def cluster_command(
    directory: Path, *args: str, timeout: float = 300, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--dir", str(directory), *args],
        capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd,
    )  # fmt: skip


def start_cluster(directory: Path, *args: str, cwd: Path | None = None) -> dict[str, Any]:
    started = cluster_command(directory, "start", *args, cwd=cwd)
    assert started.returncode == 0, started.stderr[-3000:]
    return {**json.loads(started.stdout), "dir": directory}


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
    """The names in an HDFS directory; [] if it does not exist."""
    try:
        statuses = webhdfs(cluster, path, "LISTSTATUS")["FileStatuses"]["FileStatus"]
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return []
        raise
    return sorted(f["pathSuffix"] for f in statuses)


def tree(cluster: dict[str, Any], path: str) -> list[str]:
    """Every file and directory under `path`, relative to it, depth first."""
    found = []
    for status in webhdfs(cluster, path, "LISTSTATUS")["FileStatuses"]["FileStatus"]:
        name = f"{path.rstrip('/')}/{status['pathSuffix']}"
        found.append(name)
        if status["type"] == "DIRECTORY":
            found += tree(cluster, name)
    return found


def applications(cluster: dict[str, Any]) -> list[dict[str, Any]]:
    """Every application the ResourceManager knows, oldest first."""
    apps = (get_json(f"{cluster['resourcemanager']}/ws/v1/cluster/apps").get("apps") or {}).get("app", [])
    return sorted(apps, key=lambda app: app["startedTime"])


def streaming_jar() -> str:
    """The hadoop-streaming jar Maven resolved (scripts/hadoop/pom.xml)."""
    jars = [jar for jar in CLASSPATH.read_text().strip().split(":") if "/hadoop-streaming-" in jar]
    assert len(jars) == 1, jars
    return jars[0]


def hadoop_environment(cluster: dict[str, Any], config: Path) -> dict[str, str]:
    """What a run on the cluster needs: HADOOP_CONF_DIR, and a luigi.cfg (at `config`) naming the hadoop
    command, the streaming jar and the Python of the task processes."""
    config.write_text(
        "[hadoop]\n"
        f"command = {HADOOP}\n"
        f"streaming_jar = {streaming_jar()}\n"
        f"python_executable = {sys.executable}\n"
    )
    return {"HADOOP_CONF_DIR": cluster["conf_dir"], "LUIGI_CONFIG_PATH": str(config)}


def root_args(cluster: dict[str, Any], root: str) -> list[str]:
    """`--storage-root hdfs://.../root --webhdfs-port PORT` for the cluster."""
    port = cluster["webhdfs"].rsplit(":", 1)[1]
    return ["--storage-root", f"{cluster['hdfs']}{root}", "--webhdfs-port", port]


def hadoop_fs(cluster: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HADOOP_CONF_DIR": cluster["conf_dir"]}
    return subprocess.run([str(HADOOP), "fs", *args], capture_output=True, text=True, env=env, check=False)
