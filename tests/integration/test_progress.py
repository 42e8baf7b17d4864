"""What a user sees while books download: a progress bar on a terminal, one log line per book otherwise."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

from tests.support import REPO, MirrorServer, mirror_dir, offline_args

BOOK = 1342


def book_size() -> int:
    """The size of the mirror's copy of BOOK, looked up when a test runs."""
    return (mirror_dir() / "cache" / "epub" / str(BOOK) / f"pg{BOOK}.txt").stat().st_size


def download_command(server: MirrorServer, root: Path) -> list[str]:
    """CorpusParquet of the top 2 books (1342, then 1232): downloads and Parquet, no Spark."""
    luigi_bin = Path(sys.executable).parent / "luigi"
    return [str(luigi_bin), "--module", "pipeline", "CorpusParquet", *offline_args(server.url, root, 2)]


def run_on_terminal(command: list[str]) -> tuple[int, str]:
    """Run `command` with stderr on a pseudo-terminal; its exit code and what the terminal showed."""
    controller, terminal = pty.openpty()
    # A new pseudo-terminal is 0 columns wide, where tqdm draws nothing; a real one has a size.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:
            process.kill()
            break
        try:
            data = os.read(controller, 65536)
        except OSError:  # EIO: the terminal's other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(controller)
    return process.wait(timeout=60), b"".join(chunks).decode("utf-8", errors="replace")


def log_line() -> re.Pattern[str]:
    """The one line logged for BOOK: its bytes, time and rate."""
    return re.compile(
        rf"book {BOOK} \(1 of 2\): {book_size():,} bytes in \d+\.\d s \([\d.]+ [kMG]?B/s\) from http://"
    )


def test_download_shows_a_bar_on_a_terminal(tmp_path: Path) -> None:
    with MirrorServer(mirror_dir()) as server:
        # Slow enough for the bar to be drawn while bytes arrive: 16 chunks, 50 ms apart.
        chunk = book_size() // 16 + 1
        server.overrides[f"/cache/epub/{BOOK}/pg{BOOK}.txt"] = server.file_reply(
            f"/cache/epub/{BOOK}/pg{BOOK}.txt", chunk_size=chunk, chunk_delay=0.05
        )
        code, screen = run_on_terminal(download_command(server, tmp_path / "data"))
    assert code == 0, screen[-2000:]
    bars = [part for part in re.split(r"[\r\n]", screen) if part.startswith(f"[1/2] pg{BOOK}:")]
    assert bars, screen[-2000:]
    # tqdm's bar: percent, bytes so far of the total, and the rate.
    assert any(re.search(r"\d+%\|.*\| [\d.]+[kM]?/[\d.]+[kM] \[.*B/s\]", bar) for bar in bars), bars
    assert log_line().search(screen)
    assert (tmp_path / "data" / "raw" / str(BOOK) / f"pg{BOOK}.txt").stat().st_size == book_size()


def test_download_logs_one_line_per_book_without_a_terminal(tmp_path: Path) -> None:
    with MirrorServer(mirror_dir()) as server:
        result = subprocess.run(
            download_command(server, tmp_path / "data"), cwd=REPO, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"[1/2] pg{BOOK}" not in result.stderr  # no bar in a log file
    assert len(log_line().findall(result.stderr)) == 1
