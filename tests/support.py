"""Helpers every layer imports (`from tests.support import ...`): the Gutenberg mirror, looked up only when
a test asks for it; a loopback HTTP server with per-path misbehaviour; the luigi command; Luigi config
overrides. Fixtures built on them live in tests/conftest.py."""

from __future__ import annotations

import contextlib
import http.server
import importlib.util
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import jobs
from pipeline import gutenberg as gb

REPO = Path(__file__).resolve().parent.parent
# The jobs package under test: the checkout's, or the installed one where the tests run without a checkout
# (docker/Dockerfile's image).
JOBS = Path(jobs.__file__).resolve().parent


def mirror_dir() -> Path:
    """The shared Gutenberg mirror (CI clones the project with shared/ beside it; GUTENBERG_MIRROR points
    elsewhere when it is not). Looked up when a test needs it, never at import: a missing mirror fails
    that test, with one message, and leaves every test that does not need it alone."""
    path = Path(os.environ.get("GUTENBERG_MIRROR", REPO.parent / "shared" / "gutenberg" / "mirror"))
    if not (path / "cache" / "epub").is_dir():
        pytest.fail(
            f"Gutenberg mirror not found at {path}; set GUTENBERG_MIRROR to a folder laid out like "
            "gutenberg.org (see ../shared/gutenberg/README.md)",
            pytrace=False,
        )
    return path


def mirror_book_ids() -> list[int]:
    """The ids of the mirror's books, ascending."""
    return sorted(int(p.name) for p in (mirror_dir() / "cache" / "epub").iterdir() if p.is_dir())


def mirror_body(book_id: int) -> str:
    """A shared mirror book's body, by the pure-Python text rules (the reference every engine must match)."""
    from jobs.textrules import read_book

    return read_book((mirror_dir() / "cache" / "epub" / str(book_id) / f"pg{book_id}.txt").read_bytes()).body


def _pyspark_home() -> str:
    spec = importlib.util.find_spec("pyspark")
    return next(iter(spec.submodule_search_locations)) if spec and spec.submodule_search_locations else ""


# pyspark's spark-submit script needs SPARK_HOME when its venv is not activated (it asks `python3`).
SPARK_ENV = {**os.environ, "SPARK_HOME": os.environ.get("SPARK_HOME") or _pyspark_home()}


def listed_ids(page: str) -> list[int]:
    """Book ids of the yesterday list, read with a plain regex (independent of the pipeline's parser)."""
    section = page.split('id="books-last1"', 1)[1].split("</ol>", 1)[0]
    return [int(i) for i in re.findall(r'href="/ebooks/(\d+)"', section)]


def expected_top_words_csv(book_ids: list[int], n_words: int, stopwords: str) -> str:
    """A top-words CSV computed here, from the raw mirror files and the pure-Python text rules."""
    from jobs import textrules

    counts = textrules.count_words(mirror_body(i) for i in book_ids)
    stop = textrules.load_stopwords(stopwords)
    ranked = sorted(((w, c) for w, c in counts.items() if w not in stop), key=lambda wc: (-wc[1], wc[0]))
    if n_words:
        ranked = ranked[:n_words]
    rows = "".join(f"{rank},{word},{count}\n" for rank, (word, count) in enumerate(ranked, start=1))
    return "rank,word,count\n" + rows


@dataclass
class Reply:
    """A canned answer for one path of the test server, and how to misbehave while giving it.

    The defaults are a plain, correct reply. `delay` stalls before the status line; `reset` resets the
    connection (TCP RST) instead of answering; `content_length` declares a length other than the body's
    (a body cut short, when larger; None: the body's length; negative: no header, the body ends when the
    connection closes); `chunk_size`/`chunk_delay` send the body in
    pieces with a pause before each (a trickle, or a stall mid-body); `reset_after` resets the
    connection after that many body bytes.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset: bool = False
    content_length: int | None = None
    chunk_size: int = 0
    chunk_delay: float = 0.0
    reset_after: int | None = None

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Reply:
        return cls(status, headers={"Location": location})


# What an override gives for one request: a Reply, or None to serve the mirror's file as usual.
Override = Reply | Callable[[], "Reply | None"] | list["Reply | None"]


class MirrorServer:
    """A real HTTP server on 127.0.0.1 serving a mirror folder, with per-path overrides and a request log.

    `overrides[path]` is a Reply (every request), a callable returning one (or None: serve the file), or a
    list consumed one item per request (None items serve the file; once empty, the file is served): e.g.
    `[Reply(503)]` is a 503 and then the real book. `requests` logs each GET's path (a HEAD as
    `HEAD path`), `request_headers` the headers of each request. `answer_only(k)`: every request after
    the k-th is reset (a mirror dying mid-run). `port`: a fixed port (0: any free one).
    """

    def __init__(self, root: Path, port: int = 0) -> None:
        self.root = root
        self.requests: list[str] = []
        self.request_times: list[float] = []  # time.monotonic() as each request came in
        self.request_headers: list[dict[str, str]] = []
        self.overrides: dict[str, Override] = {}
        self.answered: int | None = None
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, directory=str(server.root), **kwargs)

            def do_GET(self) -> None:
                reply = server._next_reply(self.path, dict(self.headers.items()))
                if reply is None:
                    super().do_GET()
                    return
                # The client may give up (a cap, a timeout): expected in fault tests.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(reply)

            def do_HEAD(self) -> None:
                reply = server._next_reply(f"HEAD {self.path}", dict(self.headers.items()))
                if reply is None:
                    super().do_HEAD()
                    return
                # The client may give up (a cap, a timeout): expected in fault tests.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(reply)

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.reset:
                    self._reset()
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                length = len(reply.body) if reply.content_length is None else reply.content_length
                if length >= 0:
                    self.send_header("Content-Length", str(length))
                self.end_headers()
                body = reply.body if reply.reset_after is None else reply.body[: reply.reset_after]
                step = reply.chunk_size or len(body) or 1
                for start in range(0, len(body), step):
                    if reply.chunk_delay:
                        time.sleep(reply.chunk_delay)
                    self.wfile.write(body[start : start + step])
                    self.wfile.flush()
                if reply.reset_after is not None:
                    self._reset()
                    return
                self.close_connection = True

            def _reset(self) -> None:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True

            def log_message(self, format: str, *args) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:
                pass  # resets and clients hanging up are the point of these tests, not errors

        self.httpd = Server(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer_only(self, k: int) -> None:
        """Reset every request after the k-th (counted from the start)."""
        self.answered = k

    def _next_reply(self, path: str, headers: dict[str, str]) -> Reply | None:
        with self._lock:
            self.requests.append(path)
            self.request_times.append(time.monotonic())
            self.request_headers.append(headers)
            if self.answered is not None and len(self.requests) > self.answered:
                return Reply(reset=True)
            override = self.overrides.get(path)
            if isinstance(override, list):
                return override.pop(0) if override else None
        return override() if callable(override) else override

    def file_reply(self, path: str, **misbehaviour) -> Reply:
        """The mirror's file at `path` (e.g. "/cache/epub/84/pg84.txt") as a Reply, to serve it badly."""
        return Reply(200, (self.root / path.lstrip("/")).read_bytes(), **misbehaviour)

    def __enter__(self) -> MirrorServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# A client for loopback servers: no politeness delay, short timeouts, three quick attempts.
CLIENT_SETTINGS: dict[str, object] = {
    "user_agent": "gutenberg-wordcount-tests",
    "delay_seconds": 0.0,
    "connect_timeout": 2.0,
    "read_timeout": 1.0,
    "max_attempts": 3,
    "backoff_seconds": 0.05,
    "max_backoff_seconds": 5.0,
    "max_bytes": 10_000_000,
    "max_seconds": 30.0,
    "allowed_hosts": "",
}


def gutenberg_client(**settings: object) -> gb.Client:
    """pipeline.gutenberg.Client with CLIENT_SETTINGS, any of them overridden by `settings`."""
    return gb.Client(**{**CLIENT_SETTINGS, **settings})  # type: ignore[arg-type]


class ConfigOverride:
    """Set one key of Luigi's config for the duration of a `with` block."""

    def __init__(self, section: str, key: str, value: str) -> None:
        self.section, self.key, self.value = section, key, value

    def __enter__(self) -> None:
        import luigi.configuration

        config = luigi.configuration.get_config()
        self.previous = config.get(self.section, self.key, None)
        config.set(self.section, self.key, self.value)

    def __exit__(self, *exc: object) -> None:
        import luigi.configuration

        config = luigi.configuration.get_config()
        if self.previous is None:
            config.remove_option(self.section, self.key)
        else:
            config.set(self.section, self.key, self.previous)


def offline_args(
    url: str, root: Path, n_books: int | None = None, date: str | None = "2026-11-20"
) -> list[str]:
    """Flags most runs share: local scheduler, one day (None: today), the loopback server for everything
    (no mirrors) with no delay, a private root."""
    args = ["--local-scheduler"] + (["--date", date] if date is not None else [])
    if n_books is not None:
        args += ["--n-books", str(n_books)]
    return [
        *args,
        "--gutenberg-base-url",
        url,
        "--gutenberg-mirrors=none",
        "--gutenberg-delay-seconds",
        "0",
        "--storage-root",
        str(root),
    ]


def run_luigi(
    *args: str, cwd: Path, timeout: float = 600, merged: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real `luigi` command, as a user types it, in a subprocess; `merged`: stderr into stdout, in
    the order a terminal would show them; `env`: variables added to this process's environment."""
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT} if merged else {"capture_output": True}
    environment = {**os.environ, **env} if env else None
    return subprocess.run(
        luigi_command(*args), cwd=cwd, text=True, timeout=timeout, check=False, env=environment, **streams
    )


def error_lines(stderr: str) -> list[str]:
    """The pipeline's one-line causes (not Luigi's own `ERROR: [pid ...]` log lines)."""
    return [
        line for line in stderr.splitlines() if line.startswith("ERROR: ") and not line.startswith("ERROR: [")
    ]


def luigi_command(*args: str) -> list[str]:
    luigi_bin = Path(sys.executable).parent / "luigi"
    return [str(luigi_bin) if luigi_bin.exists() else "luigi", "--module", "pipeline", *args]


def start_luigi(*args: str, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The luigi command in a session of its own, so every process it starts can be found afterwards."""
    environment = {**os.environ, **env} if env else None
    with open(log, "wb") as out:
        return subprocess.Popen(
            luigi_command(*args), cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env=environment,
        )  # fmt: skip


def session_processes(session: int) -> list[tuple[int, str]]:
    """(pid, command) of the live processes of a session, from the process table."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append((int(entry.name), command))
    return found


def kill_session(session: int) -> None:
    for pid, _ in session_processes(session):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise TimeoutError(what)
