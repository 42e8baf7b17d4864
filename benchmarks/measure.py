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
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
# The checkout. Commands run from it, as the README's do: a relative [storage] root means the same there.
REPO = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[bench {datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def session_rss_kib(sid: int) -> int:
    """The summed resident memory of every process in session `sid` (a whole process tree)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            if int(fields[3]) != sid:  # fields after the name: state, ppid, pgrp, session, ...
                continue
            with open(f"/proc/{entry.name}/status", "rb") as handle:
                for line in handle:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1])
                        break
        # A process can end between listing /proc and reading its files.
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return total


@dataclass
class Measurement:
    wall_s: float
    peak_rss_mib: float
    returncode: int


def measure(
    command: list[str], cwd: Path = REPO, stdout: Path | None = None, interval: float = 0.05
) -> Measurement:
    """Run `command` in its own session; wall time and the peak summed RSS of its process tree.

    The session (not the child alone) is what is sampled: Spark's JVM, mrjob's task processes and the
    `sort` of a shell pipeline are all below the command. With `stdout`, output goes there and stderr to
    `<stdout>.stderr`; otherwise both are discarded.
    """
    with contextlib.ExitStack() as files:
        out = files.enter_context(open(stdout, "wb")) if stdout else subprocess.DEVNULL
        err = files.enter_context(open(f"{stdout}.stderr", "wb")) if stdout else subprocess.DEVNULL
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        peak = 0
        try:
            while process.poll() is None:
                peak = max(peak, session_rss_kib(process.pid))
                time.sleep(interval)
        except BaseException:
            os.killpg(process.pid, signal.SIGTERM)  # Ctrl-C must not leave a JVM behind
            raise
        wall = time.monotonic() - started
    return Measurement(wall, peak / 1024, process.returncode)


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
