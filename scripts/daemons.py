"""What scripts/spark-cluster and scripts/hadoop-cluster share: daemons in sessions of their own, state in
`<dir>/cluster.json`, waiting for a daemon to come up, and stopping only the processes recorded there."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

STATE_FILE = "cluster.json"


class ClusterError(RuntimeError):
    pass


def read_state(directory: Path) -> dict[str, Any] | None:
    try:
        return json.loads((directory / STATE_FILE).read_text())
    except FileNotFoundError:
        return None


def write_state(directory: Path, state: dict[str, Any]) -> None:
    tmp = directory / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(directory / STATE_FILE)


def is_our_daemon(pid: int, java_class: str) -> bool:
    """True if `pid` is alive and is the JVM running `java_class` (not a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return java_class.encode() in cmdline


def has_exited(pid: int) -> bool:
    """True once `pid` is gone or a zombie. While a JVM starts, /proc/PID/cmdline can read empty under
    load, so is_our_daemon() is no test of whether a process just spawned has died."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state == "Z"


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def spawn(command: list[str], log: Path, env: dict[str, str]) -> int:
    with open(log, "ab") as out:
        # A session of its own: stopping the daemon signals its process group, children included.
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    return process.pid


def wait_for(check: Callable[[], bool], what: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise ClusterError(f"{what} not up after {timeout:.0f} s; see {log}")


def terminate(daemons: Iterable[tuple[int, str]], timeout: float) -> int:
    """SIGTERM (then SIGKILL) each (pid, java class) that is still ours, in order; returns how many."""
    ours = [(pid, cls) for pid, cls in daemons if is_our_daemon(pid, cls)]
    for pid, _ in ours:
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(is_our_daemon(pid, cls) for pid, cls in ours) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid, cls in ours:
        if is_our_daemon(pid, cls):
            os.killpg(pid, signal.SIGKILL)
    return len(ours)


def terminate_spawned(pid: int, timeout: float) -> None:
    """SIGTERM (then SIGKILL) the session of a daemon this process has just spawned and not yet reaped:
    its pid cannot have been recycled, so no is_our_daemon() check, which a starting JVM can fail."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while not has_exited(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
