"""The HDFS rows' storage: a mini HDFS and YARN for the run, and the corpus copied onto it.

`mini_cluster(directory)` starts `scripts/hadoop-cluster` (Hadoop's MiniDFSCluster and MiniMRYarnCluster
in one JVM, on free loopback ports) with its directory under the bench's run directory, and stops it when
the block ends, however it ends. `upload(cluster, corpus)` copies the corpus the pipeline built on local
disk (its CorpusParquet and CorpusText directories, byte for byte, with `hadoop fs -put`) to the same
paths under the HDFS root `/gw`, so the HDFS rows read exactly the local rows' input, and WordCountHadoop
finds its CorpusText there complete and starts from it.
"""

from __future__ import annotations

import json
import os
import posixpath
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from corpora import Corpus
from measure import REPO, log

HADOOP = REPO / "scripts" / "hadoop" / "bin" / "hadoop"
CLUSTER_SCRIPT = REPO / "scripts" / "hadoop-cluster"
CLASSPATH = REPO / "scripts" / "hadoop" / "target" / "classpath.txt"
ROOT = "/gw"  # the HDFS storage root of the copies, as in the README's HDFS example


def streaming_jar() -> str:
    """The hadoop-streaming jar on the mini cluster's classpath (3.4.2: Maven has no 3.5.0 one here)."""
    jars = [p for p in CLASSPATH.read_text().strip().split(":") if "hadoop-streaming" in Path(p).name]
    if not jars:
        sys.exit(f"no hadoop-streaming jar in {CLASSPATH}")
    return jars[0]


LUIGI_CONFIG = """\
# The HDFS rows' [hadoop] settings (benchmarks/minihdfs.py): WordCountHadoop on an hdfs:// root runs
# Hadoop streaming on the mini YARN through this hadoop command.
[hadoop]
command = {command}
streaming_jar = {jar}
python_executable = {python}
"""


@dataclass(frozen=True)
class Cluster:
    directory: Path
    hdfs: str  # hdfs://127.0.0.1:PORT
    webhdfs: str  # http://127.0.0.1:PORT
    resourcemanager: str  # the ResourceManager's web and REST address
    conf_dir: str
    pid: int  # the cluster's JVM; YARN's containers run below it
    hadoop_version: str
    start_s: float
    luigi_config: Path

    @property
    def webhdfs_port(self) -> str:
        return self.webhdfs.rsplit(":", 1)[1]

    def uri(self, store: Path, local: str | Path) -> str:
        """The hdfs:// URI under ROOT of `local`, a path under the local storage root `store`."""
        return f"{self.hdfs}{ROOT}/{Path(local).relative_to(store).as_posix()}"

    def env(self) -> dict[str, str]:
        """The environment of the hadoop command and of WordCountHadoop on this cluster."""
        return {**os.environ, "HADOOP_CONF_DIR": self.conf_dir, "LUIGI_CONFIG_PATH": str(self.luigi_config)}

    def fs(self, *args: str) -> None:
        """`hadoop fs ARGS...` on this cluster; the bench stops if it fails."""
        result = subprocess.run([str(HADOOP), "fs", *args], env=self.env(), capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"hadoop fs {' '.join(args)} failed:\n{result.stderr[-3000:]}")

    def yarn_seconds(self, since_ms: int) -> float | None:
        """The summed run time of the YARN applications started since `since_ms` (epoch ms); None if none."""
        url = f"{self.resourcemanager}/ws/v1/cluster/apps?startedTimeBegin={since_ms}"
        with urllib.request.urlopen(url, timeout=10) as response:
            apps = (json.load(response).get("apps") or {}).get("app", [])
        return round(sum(app["elapsedTime"] for app in apps) / 1000, 2) if apps else None


@dataclass(frozen=True)
class HdfsCorpus:
    """A corpus's copy on the cluster."""

    cluster: Cluster
    root: str  # the hdfs:// storage root the copy is under
    parquet_dir: str
    text_dir: str
    upload_s: float


def cluster_command(directory: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CLUSTER_SCRIPT), "--dir", str(directory), command],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip


@contextmanager
def mini_cluster(directory: Path) -> Iterator[Cluster]:
    """A fresh mini HDFS and YARN in `directory` for the duration of the block, stopped however it ends."""
    directory.mkdir(parents=True, exist_ok=True)
    cluster_command(directory, "stop")  # one a killed bench left behind (only the one it recorded there)
    started = time.monotonic()
    result = cluster_command(directory, "start")
    if result.returncode != 0:  # hadoop-cluster has torn down what it started
        sys.exit(f"the mini HDFS did not start:\n{result.stderr[-3000:]}")
    state = json.loads(result.stdout)
    config = directory / "luigi.cfg"
    config.write_text(LUIGI_CONFIG.format(command=HADOOP, jar=streaming_jar(), python=sys.executable))
    cluster = Cluster(
        directory, state["hdfs"], state["webhdfs"], state["resourcemanager"], state["conf_dir"],
        int(state["pid"]), state.get("hadoop_version", "?"), round(time.monotonic() - started, 1), config,
    )  # fmt: skip
    log(f"mini HDFS and YARN up: Hadoop {cluster.hadoop_version}, {cluster.hdfs} ({cluster.start_s:.0f} s)")
    try:
        yield cluster
    finally:
        stopped = cluster_command(directory, "stop")
        log(f"mini HDFS and YARN: {(stopped.stdout or stopped.stderr).strip()}")


def upload(cluster: Cluster, corpus: Corpus) -> Corpus:
    """`corpus` with its copy on `cluster`: CorpusParquet and CorpusText put at their paths under ROOT."""
    started = time.monotonic()
    parquet, text = (cluster.uri(corpus.store, d) for d in (corpus.parquet_dir, corpus.text_dir))
    cluster.fs("-mkdir", "-p", posixpath.dirname(parquet), posixpath.dirname(text))
    for local, uri in ((corpus.parquet_dir, parquet), (corpus.text_dir, text)):
        cluster.fs("-put", "-d", local, uri)  # -d: no ._COPYING_ file renamed into place
    seconds = round(time.monotonic() - started, 1)
    log(f"corpus {corpus.size_mib:g} MiB copied to {cluster.hdfs}{ROOT} ({seconds:.0f} s, not timed)")
    return replace(corpus, hdfs=HdfsCorpus(cluster, f"{cluster.hdfs}{ROOT}", parquet, text, seconds))
