"""Measuring one command: its wall time and the peak resident memory of its whole process tree.

Also the record of one measured run (`Run`, a row of the report) and the harness's progress line.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
# The checkout. Commands run from it, as the README's do: a relative [storage] root means the same there.
REPO = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[bench {datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def processes() -> dict[int, tuple[int, int]]:
    """Every process now: pid -> (parent pid, session id)."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            # The fields after the name: state, ppid, pgrp, session, ...
            table[int(entry.name)] = (int(fields[1]), int(fields[3]))
        # A process can end between listing /proc and reading its files.
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return table


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        pass
    return 0


def session_rss_kib(sid: int, table: dict[int, tuple[int, int]] | None = None) -> int:
    """The summed resident memory of every process in session `sid` (a whole process tree)."""
    table = processes() if table is None else table
    return sum(rss_kib(pid) for pid, (_, session) in table.items() if session == sid)


def tree_rss_kib(root: int, table: dict[int, tuple[int, int]]) -> int:
    """The summed resident memory of `root` and all its descendants, whatever their sessions (YARN starts
    each container in a session of its own, below the NodeManager's JVM)."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0, [root] if root in table else []
    while todo:
        pid = todo.pop()
        total += rss_kib(pid)
        todo += children.get(pid, [])
    return total


@dataclass
class Measurement:
    wall_s: float
    peak_rss_mib: float
    returncode: int
    also_peak_rss_mib: float = 0  # the peak summed RSS of the `also` process trees during the run


def measure(
    command: list[str],
    cwd: Path = REPO,
    stdout: Path | None = None,
    interval: float = 0.05,
    env: dict[str, str] | None = None,
    also: Sequence[int] = (),
) -> Measurement:
    """Run `command` in its own session; wall time and the peak summed RSS of its process tree.

    The session (not the child alone) is what is sampled: Spark's JVM, mrjob's task processes and the
    `sort` of a shell pipeline are all below the command. With `stdout`, output goes there and stderr to
    `<stdout>.stderr`; otherwise both are discarded. `also`: pids of servers the command uses (the mini
    cluster), whose process trees are sampled at the same times and reported apart.
    """
    with contextlib.ExitStack() as files:
        out = files.enter_context(open(stdout, "wb")) if stdout else subprocess.DEVNULL
        err = files.enter_context(open(f"{stdout}.stderr", "wb")) if stdout else subprocess.DEVNULL
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, start_new_session=True, env=env)
        peak = also_peak = 0
        try:
            while process.poll() is None:
                table = processes()
                peak = max(peak, session_rss_kib(process.pid, table))
                if also:
                    also_peak = max(also_peak, sum(tree_rss_kib(pid, table) for pid in also))
                time.sleep(interval)
        except BaseException:
            os.killpg(process.pid, signal.SIGTERM)  # Ctrl-C must not leave a JVM behind
            raise
        wall = time.monotonic() - started
    return Measurement(wall, peak / 1024, process.returncode, also_peak / 1024)


@dataclass
class Run:
    """One tool on one corpus (size 0: the floor and end-to-end runs, which have no corpus)."""

    tool: str
    size_mib: float  # the requested corpus size, which names the corpus
    body_mib: float  # its actual body text: the MiB of every MiB/s
    wall_s: float
    mib_per_s: float
    peak_rss_mib: float
    distinct_words: int | None = None
    same_as_ours: bool | None = None
    jvm_free_s: float | None = None  # Spark jobs: SparkContext start to end, from the event log
    label: str = ""
    tokenisation: str = ""
    storage: str = ""  # where the tool read the corpus and wrote its table: local disk or mini HDFS
    cluster_rss_mib: float | None = None  # HDFS rows: the mini cluster's peak RSS (YARN containers included)
    yarn_s: float | None = None  # HDFS rows: the run time of the YARN applications the run started
