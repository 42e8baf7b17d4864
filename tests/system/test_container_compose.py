"""Case 3 of the containers: docker/compose.yaml brought up with podman-compose. luigid, the Spark master
and worker, and the pipeline service run TopWordsSpark on the Spark cluster under luigid; the CSV on the
`data` volume is the pure-Python count, luigid's API shows every task DONE, and `down` leaves nothing of
the project behind.

The one addition to the file (an override, as `-f` allows): a `gutenberg` service serving the shared
mirror on the compose network, and the pipeline service's own command pointed at it for one date.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.support import REPO, expected_top_words_csv, listed_ids, mirror_dir
from tests.system import containers
from tests.system.containers import image, podman

pytestmark = pytest.mark.container

COMPOSE = REPO / "docker" / "compose.yaml"
DATE = "2026-11-20"
REPORT = f"top_words/spark/yesterday/{DATE}/books-10/top-50_stop-english.csv"
CLUSTER = ["luigid", "spark-master", "spark-worker", "gutenberg"]
MASTER_JSON = (
    "import urllib.request; print(urllib.request.urlopen('http://spark-master:8080/json/').read().decode())"
)


def compose_command(project: str, override: Path) -> list[str]:
    return ["podman-compose", "-p", project, "-f", str(COMPOSE), "-f", str(override)]


def run_compose(project: str, override: Path, *args: str, timeout: float = 600) -> str:
    return containers.run([*compose_command(project, override), *args], cwd=REPO, timeout=timeout).stdout


def wait_for_luigid(container: str, timeout: float = 120) -> None:
    """Until luigid in `container` accepts connections (the pipeline's worker gives up on a refused one)."""
    probe = "import socket; socket.create_connection(('127.0.0.1', 8082), 1)"
    deadline = time.monotonic() + timeout
    while podman("exec", container, "python", "-c", probe, check=False).returncode:
        assert time.monotonic() < deadline, f"luigid did not listen within {timeout} s"
        time.sleep(1)


def luigid_api(container: str, method: str, data: dict[str, object]) -> dict:
    """luigid's JSON API, asked from inside its container (the published port may be taken on a host)."""
    url = f"http://127.0.0.1:8082/api/{method}?" + urllib.parse.urlencode({"data": json.dumps(data)})
    script = f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=10).read().decode())"
    return json.loads(podman("exec", container, "python", "-c", script, timeout=60).stdout)["response"]


def project_leftovers(project: str) -> list[str]:
    """Every container, pod and volume podman still has of the project."""
    label = f"label=io.podman.compose.project={project}"
    found = podman("ps", "-a", "--filter", label, "--format", "{{.Names}}").stdout.split()
    found += podman("volume", "ls", "--filter", label, "--format", "{{.Name}}").stdout.split()
    return found + [n for n in podman("pod", "ps", "--format", "{{.Name}}").stdout.split() if project in n]


def project_networks(project: str) -> list[str]:
    return [
        n for n in podman("network", "ls", "--format", "{{.Name}}").stdout.split() if n.startswith(project)
    ]


@pytest.mark.skipif(shutil.which("podman-compose") is None, reason="podman-compose is not installed")
def test_compose_runs_the_pipeline_on_the_spark_cluster_under_luigid(tmp_path: Path) -> None:
    image()
    project = f"gwtest{os.getpid()}"
    # The pipeline service as the file has it, with Luigi's LUIGI_CONFIG_PATH (read over the project's
    # luigi.cfg) naming the mirror and the date: compose tools differ on merging a command, not on these.
    settings = tmp_path / "luigi.cfg"
    settings.write_text(
        "[gutenberg]\nbase_url = http://gutenberg:8000\nmirrors =\ndelay_seconds = 0\n\n"
        f"[TopWordsSpark]\ndate = {DATE}\n"
    )
    override = tmp_path / "compose.mirror.yaml"
    override.write_text(yaml.safe_dump({
        "services": {
            "gutenberg": {
                "image": "gutenberg-wordcount",
                "command": ["python", "-m", "http.server", "8000", "--directory", "/mirror"],
                "volumes": [f"{mirror_dir()}:/mirror:ro"],
            },
            "pipeline": {
                "environment": {"LUIGI_CONFIG_PATH": "/test/luigi.cfg"},
                "volumes": [f"{settings}:/test/luigi.cfg:ro"],
            },
        }
    }))  # fmt: skip
    try:
        run_compose(project, override, "up", "-d", *CLUSTER)
        luigid = f"{project}_luigid_1"
        wait_for_luigid(luigid)
        run_compose(project, override, "up", "-d", "pipeline")
        pipeline = f"{project}_pipeline_1"
        exit_code = podman("wait", pipeline, timeout=1200).stdout.strip()
        shown = podman("logs", pipeline)
        logs = shown.stderr + shown.stdout
        assert exit_code == "0", logs[-4000:]

        volume = Path(
            podman("volume", "inspect", f"{project}_data", "--format", "{{.Mountpoint}}").stdout.strip()
        )
        books = listed_ids((mirror_dir() / "browse" / "scores" / "top").read_text(encoding="utf-8"))[:10]
        assert (volume / REPORT).read_text(encoding="utf-8") == expected_top_words_csv(books, 50, "english")

        tasks = luigid_api(luigid, "task_list", {"status": "", "upstream_status": "", "search": ""})
        assert Counter(task["status"] for task in tasks.values()) == {"DONE": len(tasks)}
        assert Counter(task["name"] for task in tasks.values()) == {
            "TopBooks": 1, "DownloadBook": 10, "CorpusParquet": 1, "WordCountSpark": 1, "TopWordsSpark": 1,
        }  # fmt: skip
        # The word count ran on the cluster: the standalone master's JSON API has the one worker and the
        # application, finished.
        master = json.loads(podman("exec", luigid, "python", "-c", MASTER_JSON, timeout=60).stdout)
        assert [worker["state"] for worker in master["workers"]] == ["ALIVE"]
        assert [(app["name"], app["state"]) for app in master["completedapps"]] == [
            ("gutenberg-wordcount", "FINISHED")
        ]
    finally:
        run_compose(project, override, "down", "-v", timeout=300)
        left = project_leftovers(project)
        # podman-compose 1.0.3 takes down containers, pods and (-v) volumes but never the network it made
        # (compose_down has no network step): the test removes that one itself, by name.
        networks = project_networks(project)
        for network in networks:
            podman("network", "rm", network)
    assert left == []
    assert networks == [f"{project}_default"]
