"""luigid's visualiser in a real browser, during and after a real run of the pipeline under luigid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import REPO, MirrorServer, mirror_dir
from tests.system.browser import Chromium
from tests.system.test_deploy import TOP3, api_tasks, luigid_server, pipeline_args, scheduler_args

pytestmark = pytest.mark.spark

ARTIFACTS = REPO / "data" / "test-artifacts"
FAMILIES = {"TopWordsSpark", "WordCountSpark", "CorpusParquet", "TopBooks", "DownloadBook"}
STATUSES = ("PENDING", "RUNNING", "DONE", "FAILED", "DISABLED")
# The status icon of each row of the visualiser's task table (visualiserApp.js, taskCategoryIcon).
ICONS = {"fa-pause": "PENDING", "fa-play": "RUNNING", "fa-check": "DONE", "fa-times": "FAILED"}

# (family, status icon) of each row of the task table, as rendered; none while DataTables shows its
# "No data available" row.
TABLE_ROWS = """[...document.querySelectorAll('#taskTable tbody tr')]
  .filter(tr => tr.cells.length > 1)
  .map(tr => [tr.cells[1].textContent.trim(), tr.cells[0].querySelector('i').className])"""
# (family, task id, status) of each node of the dependency graph (graph.js, renderGraph). Its jQuery
# cannot add classes to SVG elements (g.node never matches): the links get theirs as plain attributes.
GRAPH_NODES = """[...document.querySelectorAll('#graphPlaceholder svg a.graph-node-a')]
  .map(a => [a.textContent, a.getAttribute('data-task-id'), a.getAttribute('data-task-status')])"""


def scheduler_state(port: int) -> dict[str, tuple[str, str]]:
    """task id -> (family, status), from luigid's API."""
    return {
        tid: (task["name"], status) for status in STATUSES for tid, task in api_tasks(port, status).items()
    }


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not {what} after {timeout} s")
        time.sleep(0.2)


def test_visualiser_shows_the_run_live_and_its_graph(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    release = threading.Event()

    def held_book() -> None:
        # Every book download waits for the test: the run stays alive, with its tasks frozen as running
        # and pending, for as long as the test looks at it. None: then the mirror's file is served.
        release.wait(timeout=60)

    luigi_bin = Path(sys.executable).parent / "luigi"
    with luigid_server(tmp_path) as port, MirrorServer(mirror_dir()) as server, Chromium() as browser:
        for book in TOP3:
            server.overrides[f"/cache/epub/{book}/pg{book}.txt"] = held_book
        command = [str(luigi_bin) if luigi_bin.exists() else "luigi", "--module", "pipeline", "TopWordsSpark"]
        command += [*scheduler_args(port), *pipeline_args(server, tmp_path / "data", 3)]
        log = tmp_path / "luigi.log"
        with log.open("w") as out:
            # Its own process group: if the test fails, its spark-submit goes with it.
            run = subprocess.Popen(
                command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            wait_until(
                lambda: any(p.startswith("/cache/epub/") for p in server.requests) or run.poll() is not None,
                timeout=60,
                what="downloading",
            )
            assert run.poll() is None, log.read_text()[-3000:]
            state = scheduler_state(port)
            assert {family for family, _ in state.values()} == FAMILIES

            # The task list, rendered by the visualiser's JavaScript from /api/task_list.
            base = f"http://127.0.0.1:{port}/static/visualiser/index.html"
            browser.set_viewport(1280, 800)
            browser.open(base)
            rows = browser.wait_for(f"(rows => rows.length >= {len(state)} && rows)({TABLE_ROWS})", 20)
            running_box = browser.evaluate(
                "document.querySelector('#RUNNING_info .info-box-number').textContent"
            )
            sidebar = browser.evaluate("document.getElementById('familySidebar').textContent")
            alive = run.poll() is None
            shown = Counter((family, ICONS.get(icon.split()[-1], icon)) for family, icon in rows)
            assert shown == Counter(state.values())
            assert alive
            assert {family for family, _ in shown} == FAMILIES
            assert all(family in sidebar for family in FAMILIES)
            assert shown[("DownloadBook", "RUNNING")] == int(running_box) == 1
            assert shown[("DownloadBook", "PENDING")] == 2
            browser.screenshot(ARTIFACTS / "visualiser-tasks.png")

            # The dependency graph of the root task (its id from the API), one node per task.
            root_id = next(tid for tid, (family, _) in state.items() if family == "TopWordsSpark")
            browser.open(f"{base}#tab=graph&taskId={urllib.parse.quote(root_id)}")
            nodes = browser.wait_for(f"(nodes => nodes.length >= {len(state)} && nodes)({GRAPH_NODES})", 20)
            assert run.poll() is None
            assert len(nodes) == len(state)
            assert {task_id: (family, status) for family, task_id, status in nodes} == state
            title = browser.evaluate("document.getElementById('dependencyTitle').textContent")
            assert title.startswith("TopWordsSpark(")
            browser.screenshot(ARTIFACTS / "visualiser-graph.png")

            release.set()
            run.wait(timeout=180)
        finally:
            release.set()
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)  # the leader is still alive, so the group is still ours
                run.wait()
        assert run.returncode == 0, log.read_text()[-3000:]
        assert set(scheduler_state(port).values()) == {(family, "DONE") for family in FAMILIES}
