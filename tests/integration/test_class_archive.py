"""SparkClassArchive: the driver's class-data sharing archive is made once, atomically, and then mapped by
the pipeline's spark-submit drivers (seen in the driver's /proc/PID/maps, not in our own code's word)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import (
    MirrorServer,
    expected_top_words_csv,
    listed_ids,
    mirror_dir,
    offline_args,
    run_luigi,
    session_processes,
    start_luigi,
)

pytestmark = pytest.mark.spark


def driver_command(env: dict[str, str], *overrides: str) -> str:
    """WordCountSpark's spark-submit line in a process with `env` (its TMPDIR holds the caches)."""
    code = (
        "import sys, pipeline, luigi.cmdline_parser as p\n"
        "from pipeline.spark import WordCountSpark\n"
        "with p.CmdlineParser.global_instance(['WordCountSpark', '--n-books', '1', *sys.argv[1:]]):\n"
        "    task = WordCountSpark(n_books=1)\n"
        "    task._output_tmp = '/tmp/out'\n"
        "    print(' '.join(map(str, task.spark_command())))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *overrides], env={**os.environ, **env}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_archive_is_made_once_and_mapped_by_the_main_commands_driver(tmp_path: Path) -> None:
    env = {"TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    cache = tmp_path / "tmp" / "gutenberg-wordcount"
    assert "SharedArchiveFile" not in driver_command(env)  # nothing to map yet

    made = run_luigi("SparkClassArchive", "--local-scheduler", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr[-3000:]
    [archive] = cache.glob("spark-driver-*.jsa")
    assert archive.stat().st_size > 50_000_000
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []  # no partial left
    mtime = archive.stat().st_mtime_ns
    again = run_luigi("SparkClassArchive", "--local-scheduler", cwd=tmp_path, env=env)
    assert again.returncode == 0 and archive.stat().st_mtime_ns == mtime
    assert f"-XX:SharedArchiveFile={archive}" in driver_command(env)
    assert "SharedArchiveFile" not in driver_command(env, "--spark-class-data-sharing", "false")

    mapped: set[str] = set()
    with MirrorServer(mirror_dir()) as server:
        proc = start_luigi(
            "TopWordsSpark", *offline_args(server.url, tmp_path / "data"), log=tmp_path / "log", env=env
        )
        while proc.poll() is None:
            for pid, command in session_processes(proc.pid):
                if command.endswith("java"):
                    try:
                        maps = Path(f"/proc/{pid}/maps").read_text()
                    except OSError:
                        continue
                    mapped |= {line.split()[-1] for line in maps.splitlines() if line.endswith(".jsa")}
            time.sleep(0.2)
    assert proc.returncode == 0, (tmp_path / "log").read_text()[-3000:]
    assert str(archive) in mapped
    ids = listed_ids((mirror_dir() / "browse" / "scores" / "top").read_text(encoding="utf-8"))[:10]
    [csv] = (tmp_path / "data" / "top_words" / "spark" / "yesterday").glob(
        "*/books-10/top-50_stop-english.csv"
    )
    assert csv.read_text(encoding="utf-8") == expected_top_words_csv(ids, 50, "english")
