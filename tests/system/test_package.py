"""The package as a user installs it: a wheel built from the tracked files, installed into a fresh venv
from a local wheelhouse (no network), and its `luigi` called by absolute path from an unrelated folder
with the venv not activated, as cron would."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support import REPO, MirrorServer, expected_top_words_csv, listed_ids, mirror_dir

pytestmark = pytest.mark.spark

# .ci/run fills it: `python -m pip wheel -w .wheelhouse .` (every dependency as a wheel).
WHEELHOUSE = Path(os.environ.get("GUTENBERG_WHEELHOUSE", REPO / ".wheelhouse"))
# What cron gives a job: no venv, no SPARK_HOME, no PYTHONPATH.
CRON_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": os.environ.get("HOME", "/root"),
    "LANG": "C.UTF-8",
}


def tracked_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [name for name in listing.stdout.splitlines() if (REPO / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel` builds from a copy of the files git tracks (what a fresh clone holds)."""
    work = tmp_path_factory.mktemp("wheel")
    for name in tracked_files():
        (work / "src" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, work / "src" / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(work / "dist"), str(work / "src")],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    [built] = (work / "dist").glob("gutenberg_wordcount-*.whl")
    return built


@pytest.fixture(scope="module")
def venv_luigi(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`luigi` of a fresh venv with the wheel installed, every dependency from the wheelhouse."""
    if not any(WHEELHOUSE.glob("pyspark-*.whl")):
        pytest.fail(f"no wheelhouse at {WHEELHOUSE}: `python -m pip wheel -w .wheelhouse .` makes it")
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index"]
    result = subprocess.run(
        [*install, "--find-links", str(WHEELHOUSE), str(wheel)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return venv / "bin" / "luigi"


def test_the_wheel_carries_what_runs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "pipeline/conf/luigi.cfg",
        "pipeline/conf/log4j2.properties",
        "pipeline/conf/mrjob.conf",
        "jobs/stopwords/english.txt",
        "jobs/word_count.py",
        "jobs/mr_word_count.py",
        "jobs/textrules.py",
        "jobs/jvm/gutenberg/wordcount/BookWords.java",
        "pipeline/spark.py",
    } <= names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "conf/", "data/"))]
    for name in ("luigi.cfg", "log4j2.properties", "mrjob.conf"):
        assert zipfile.ZipFile(wheel).read(f"pipeline/conf/{name}") == (REPO / "conf" / name).read_bytes()


def run(
    luigi_bin: Path, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(luigi_bin), "--module", "pipeline", *args],
        cwd=cwd, env={**CRON_ENV, **(env or {})}, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


def test_main_command_from_the_installed_wheel(venv_luigi: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with MirrorServer(mirror_dir()) as server:
        args = [
            "--gutenberg-base-url",
            server.url,
            "--gutenberg-mirrors=none",
            "--gutenberg-delay-seconds",
            "0",
        ]
        result = run(venv_luigi, "TopWordsSpark", "--local-scheduler", *args, cwd=elsewhere)
    assert result.returncode == 0, result.stderr[-3000:]
    ids = listed_ids((mirror_dir() / "browse" / "scores" / "top").read_text(encoding="utf-8"))[:10]
    [report] = (elsewhere / "data" / "top_words" / "spark" / "yesterday").glob(
        "*/books-10/top-50_stop-english.csv"
    )
    assert report.read_text(encoding="utf-8") == expected_top_words_csv(ids, 50, "english")
    # The packaged log4j2 setup reached the JVM (it sets the layout of Spark's own lines).
    assert "-Dlog4j2.configurationFile=file://" + str(venv_luigi.parent.parent) in result.stderr
    # The installed package's Java source was compiled and counted the words.
    [command] = [line for line in result.stderr.splitlines() if "Running command: " in line]
    assert re.search(r" --jars \S+/jobs-[0-9a-f]{16}\.jar ", command), command
    assert command.endswith(" --analysis --tokenizer=jvm"), command


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dead_server_exits_non_zero_with_one_error_line(venv_luigi: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    args = [
        "--gutenberg-base-url",
        url,
        "--gutenberg-max-attempts",
        "2",
        "--gutenberg-backoff-seconds",
        "0.05",
    ]
    args += ["--date", "2026-11-20"]
    result = run(venv_luigi, "TopWordsSpark", "--local-scheduler", *args, cwd=tmp_path)
    # [retcode] task_failed, from the packaged luigi.cfg.
    assert result.returncode == 30
    lines = (result.stdout + result.stderr).splitlines()
    assert [line for line in lines if "ERROR" in line] == [
        f"ERROR: TopBooks(date=2026-11-20, period=yesterday): {url}/browse/scores/top: "
        "connection refused (gave up after 2 attempts)"
    ]
    assert not (tmp_path / "data" / "top_books").exists()


def test_user_config_files_override_the_packaged_defaults(venv_luigi: Path, tmp_path: Path) -> None:
    """./luigi.cfg over the packaged file, $LUIGI_CONFIG_PATH over ./luigi.cfg: Luigi's own order."""
    (tmp_path / "luigi.cfg").write_text("[storage]\nroot = from-cwd-cfg\n[gutenberg]\ndelay_seconds = 0\n")
    (tmp_path / "env.cfg").write_text("[storage]\nroot = from-env-cfg\n")
    with MirrorServer(mirror_dir()) as server:
        args = ["TopBooks", "--local-scheduler", "--date", "2026-11-20", "--gutenberg-base-url", server.url]
        assert run(venv_luigi, *args, cwd=tmp_path).returncode == 0
        env = {"LUIGI_CONFIG_PATH": str(tmp_path / "env.cfg")}
        assert run(venv_luigi, *args, cwd=tmp_path, env=env).returncode == 0
    assert (tmp_path / "from-cwd-cfg" / "top_books" / "yesterday" / "2026-11-20.json").is_file()
    assert (tmp_path / "from-env-cfg" / "top_books" / "yesterday" / "2026-11-20.json").is_file()
    assert not (tmp_path / "data").exists()
