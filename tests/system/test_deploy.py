"""Deployment for real: a Spark standalone cluster on 127.0.0.1 and the central scheduler luigid."""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs import textrules
from pipeline.formats import read_word_counts
from tests.support import REPO, MirrorServer, mirror_body, mirror_dir, offline_args, run_luigi

pytestmark = pytest.mark.spark

DAY = datetime.date(2026, 11, 20)
TOP3 = [1342, 1232, 11]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def pipeline_args(server: MirrorServer, root: Path, n_books: int) -> list[str]:
    """offline_args without --local-scheduler: some of these runs use luigid."""
    return offline_args(server.url, root, n_books, DAY.isoformat())[1:]


def reference(book_ids: list[int]) -> list[tuple[str, int]]:
    counts = textrules.count_words(mirror_body(i) for i in book_ids)
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))


# --- Spark standalone cluster -----------------------------------------------------------------------


def spark_cluster(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(REPO / "scripts" / "spark-cluster"), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=180, check=False)


def alive(pid: int) -> bool:
    """Running, not a zombie: the daemons outlive the start command, so nothing may reap them."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A master and two one-core workers on 127.0.0.1, started and stopped by scripts/spark-cluster."""
    work = tmp_path_factory.mktemp("cluster")
    port, webui = free_port(), free_port()
    started = spark_cluster(
        "start", "--workers", "2", "--memory", "1g", "--port", str(port), "--webui-port", str(webui), cwd=work
    )
    assert started.returncode == 0, started.stderr
    state = json.loads((work / "data" / "spark-cluster" / "cluster.json").read_text())
    yield {"work": work, "state": state, "webui": webui}
    spark_cluster("stop", cwd=work)


def master_json(webui: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{webui}/json/", timeout=10) as response:
        return json.load(response)


def test_cluster_script_starts_a_master_and_two_workers(cluster: dict) -> None:
    state, work = cluster["state"], cluster["work"]
    assert state["master_url"].startswith("spark://127.0.0.1:")
    status = master_json(cluster["webui"])
    assert status["url"] == state["master_url"]
    assert (status["aliveworkers"], status["cores"]) == (2, 2)
    assert (work / "data" / "spark-cluster" / "master.log").is_file()
    again = spark_cluster("start", "--port", state["master_url"].rsplit(":", 1)[1], cwd=work)
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"spark-cluster: a cluster started from {work / 'data' / 'spark-cluster'} is still running "
        f"({state['master_url']})"
    )


def test_pipeline_on_the_cluster_matches_local_counts(cluster: dict, tmp_path: Path) -> None:
    root = tmp_path / "data"
    with MirrorServer(mirror_dir()) as server:
        args = ["TopWordsSpark", "--local-scheduler", "--spark-master", cluster["state"]["master_url"]]
        result = run_luigi(*args, *pipeline_args(server, root, 3), cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"--master {cluster['state']['master_url']} --deploy-mode client" in result.stderr
    assert re.search(r"--py-files \S+/gutenberg-wordcount/jobs-[0-9a-f]{16}\.zip ", result.stderr)
    counts_dir = root / "word_counts" / "spark" / "yesterday" / DAY.isoformat() / "books-3"
    assert read_word_counts(str(counts_dir)) == reference(TOP3)
    apps = master_json(cluster["webui"])["completedapps"]
    assert [(app["name"], app["state"]) for app in apps] == [("gutenberg-wordcount", "FINISHED")]


def test_cluster_stop_stops_only_what_it_started(tmp_path: Path) -> None:
    # A second, private cluster: stopping it must leave this test's bystander process alone.
    port, webui = free_port(), free_port()
    ports = ["--port", str(port), "--webui-port", str(webui)]
    started = spark_cluster("start", "--workers", "1", *ports, cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    state = json.loads((tmp_path / "data" / "spark-cluster" / "cluster.json").read_text())
    pids = [state["master"]["pid"], *(w["pid"] for w in state["workers"])]
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stopped = spark_cluster("stop", cwd=tmp_path)
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout.strip() == f"spark://127.0.0.1:{port}: stopped 2 processes"
        assert [alive(pid) for pid in pids] == [False, False]
        assert bystander.poll() is None
        assert not (tmp_path / "data" / "spark-cluster" / "cluster.json").exists()
        again = spark_cluster("stop", cwd=tmp_path)
        assert (again.returncode, again.stderr.strip()) == (
            3,
            f"no cluster was started from {tmp_path / 'data' / 'spark-cluster'}",
        )
    finally:
        bystander.kill()


# --- luigid with task history -----------------------------------------------------------------------


@contextlib.contextmanager
def luigid_server(cwd: Path) -> Iterator[int]:
    """scripts/luigid on a free port, run from `cwd` (its state and history go under cwd/data/luigid)."""
    port = free_port()
    with (cwd / "luigid.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "scripts" / "luigid"), "--address", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture
def luigid(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """luigid_server run from tmp_path: (port, its data/luigid directory)."""
    with luigid_server(tmp_path) as port:
        yield port, tmp_path / "data" / "luigid"


def api_tasks(port: int, status: str) -> dict[str, dict]:
    query = urllib.parse.quote(json.dumps({"status": status, "upstream_status": "", "search": ""}))
    url = f"http://127.0.0.1:{port}/api/task_list?data={query}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)["response"]


def history(db: Path) -> dict[str, list[str]]:
    """task_id -> event names in the order recorded, from the task-history database."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT tasks.task_id, task_events.event_name FROM tasks"
            " JOIN task_events ON task_events.task_id = tasks.id ORDER BY task_events.id"
        ).fetchall()
    events: dict[str, list[str]] = {}
    for task_id, event in rows:
        events.setdefault(task_id, []).append(event)
    return events


def scheduler_args(port: int) -> list[str]:
    return ["--scheduler-host", "127.0.0.1", "--scheduler-port", str(port)]


def test_pipeline_under_luigid_is_done_and_recorded(luigid: tuple[int, Path], tmp_path: Path) -> None:
    port, luigid_dir = luigid
    root = tmp_path / "data"
    with MirrorServer(mirror_dir()) as server:
        result = run_luigi("TopWordsSpark", *scheduler_args(port), *pipeline_args(server, root, 3), cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]

    done = api_tasks(port, "DONE")
    # The API lists insignificant parameters too (TopBooks.n_books, SparkSubmitTask's capture_output).
    corpus = {"date": DAY.isoformat(), "period": "yesterday", "n_books": "3"}
    expected = {
        ("TopBooks", tuple(sorted(corpus.items()))),
        *(("DownloadBook", (("book_id", str(i)),)) for i in TOP3),
        ("CorpusParquet", tuple(sorted(corpus.items()))),
        ("WordCountSpark", tuple(sorted({**corpus, "capture_output": "True"}.items()))),
        ("TopWordsSpark", tuple(sorted({**corpus, "n_words": "50", "stopwords": "english"}.items()))),
    }
    assert {(t["name"], tuple(sorted(t["params"].items()))) for t in done.values()} == expected
    for status in ("PENDING", "RUNNING", "FAILED", "DISABLED"):
        assert api_tasks(port, status) == {}
    # What the visualiser shows for each task: its last status message, 100%, and Spark's UI address.
    messages = {t["name"]: t["status_message"] for t in done.values() if t["name"] != "DownloadBook"}
    chars = sum(len(mirror_body(i)) for i in TOP3)
    assert messages == {
        "TopBooks": "23 books listed for yesterday",
        "CorpusParquet": f"3 books, {chars:,} characters; 0 skipped",
        "WordCountSpark": "Spark: done",
        "TopWordsSpark": "Report: "
        + str(next(root.glob("top_words/spark/*/*/books-3/top-50_stop-english.html"))),
    }
    sizes = sorted((mirror_dir() / "cache" / "epub" / str(i) / f"pg{i}.txt").stat().st_size for i in TOP3)
    downloads = [t["status_message"] for t in done.values() if t["name"] == "DownloadBook"]
    parsed = [re.fullmatch(r"book (\d) of 3: ([\d,]+) bytes", m) for m in downloads]
    assert all(parsed), downloads
    assert sorted(int(m.group(1)) for m in parsed) == [1, 2, 3]  # one worker: one book after another
    assert sorted(int(m.group(2).replace(",", "")) for m in parsed) == sizes
    assert {t["progress_percentage"] for t in done.values()} == {100}
    spark_task = next(t for t in done.values() if t["name"] == "WordCountSpark")
    assert re.fullmatch(r"http://[^/\s]+:4\d\d\d", spark_task["tracking_url"]), spark_task["tracking_url"]

    events = history(luigid_dir / "task-history.db")
    assert set(events) == set(done)
    # CorpusParquet runs twice: it yields its downloads (dynamic dependencies), then resumes.
    expected_trails = {
        task_id: ["PENDING", "RUNNING", "PENDING", "RUNNING", "DONE"]
        if task["name"] == "CorpusParquet"
        else ["PENDING", "RUNNING", "DONE"]
        for task_id, task in done.items()
    }
    assert events == expected_trails
    assert (luigid_dir / "state.pickle").parent.is_dir()


def test_two_runs_at_once_download_each_book_once(luigid: tuple[int, Path], tmp_path: Path) -> None:
    port, _ = luigid
    root = tmp_path / "data"
    with MirrorServer(mirror_dir()) as server:
        # --no-lock: both runs are one command on one machine, which Luigi's pid lock would refuse.
        args = ["TopWordsHadoop", "--no-lock", *scheduler_args(port)]
        args += pipeline_args(server, root, 5)
        results: list[subprocess.CompletedProcess[str]] = []
        runs = [threading.Thread(target=lambda: results.append(run_luigi(*args, cwd=REPO))) for _ in range(2)]
        for run in runs:
            run.start()
        for run in runs:
            run.join()
        requests = sorted(server.requests)
    assert [r.returncode for r in results] == [0, 0], [r.stderr[-2000:] for r in results]
    top5 = [1342, 1232, 11, 76, 2591]
    assert requests == sorted(["/browse/scores/top", *(f"/cache/epub/{i}/pg{i}.txt" for i in top5)])
    reports = root / "top_words" / "hadoop" / "yesterday" / DAY.isoformat() / "books-5"
    report = reports / "top-50_stop-english.json"
    payload = json.loads(report.read_text(encoding="utf-8"))
    assert [b["book_id"] for b in payload["books"]] == top5
