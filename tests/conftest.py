"""Shared fixtures: the Gutenberg mirror over loopback HTTP, one local Spark session, the luigi command."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# CI clones the project with shared/ beside it; GUTENBERG_MIRROR points elsewhere when it is not.
MIRROR = Path(os.environ.get("GUTENBERG_MIRROR", REPO.parent / "shared" / "gutenberg" / "mirror"))
MIRROR_BOOK_IDS = sorted(int(p.name) for p in (MIRROR / "cache" / "epub").iterdir() if p.is_dir())


def mirror_body(book_id: int) -> str:
    """A shared mirror book's body, by the pure-Python text rules (the reference every engine must match)."""
    from jobs.textrules import read_book

    return read_book((MIRROR / "cache" / "epub" / str(book_id) / f"pg{book_id}.txt").read_bytes()).body


@dataclass
class Reply:
    """A canned answer for one path of the test server."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class MirrorServer:
    """A real HTTP server on 127.0.0.1 serving a mirror folder, with per-path overrides and a request log."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        self.overrides: dict[str, Reply | Callable[[], Reply]] = {}
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, directory=str(server.root), **kwargs)

            def do_GET(self) -> None:
                server.requests.append(self.path)
                override = server.overrides.get(self.path)
                if override is None:
                    super().do_GET()
                    return
                reply = override() if callable(override) else override
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> MirrorServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mirror() -> Iterator[MirrorServer]:
    """The shared Gutenberg mirror served on a free loopback port."""
    if not MIRROR.is_dir():
        pytest.fail(f"Gutenberg mirror not found at {MIRROR}; set GUTENBERG_MIRROR")
    with MirrorServer(MIRROR) as server:
        yield server


@pytest.fixture
def http_server() -> Iterator[MirrorServer]:
    """An empty loopback server: every path 404 unless overridden."""
    with MirrorServer(Path("/nonexistent-gutenberg-root")) as server:
        yield server


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for every Spark test."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("gutenberg-wordcount-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def spark_submit_log(tmp_path: Path) -> tuple[Path, Path]:
    """A spark-submit wrapper that logs each call then runs the real one: (wrapper, log)."""
    real = Path(sys.executable).parent / "spark-submit"
    real_path = str(real) if real.exists() else shutil.which("spark-submit")
    assert real_path, "spark-submit not found beside python or on PATH"
    log = tmp_path / "spark-submit.log"
    wrapper = tmp_path / "spark-submit-logged"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{real_path}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, log


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


def run_luigi(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The real `luigi` command, as a user types it, in a subprocess."""
    luigi_bin = Path(sys.executable).parent / "luigi"
    command = [str(luigi_bin) if luigi_bin.exists() else "luigi", "--module", "pipeline", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
