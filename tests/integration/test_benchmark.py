"""The benchmark's parts on real processes and the mirror: the process-tree memory sampler
(benchmarks/measure.py) and the mirrors it serves (benchmarks/corpora.py). The --quick run is
tests/system/test_benchmark.py."""

from __future__ import annotations

import sys

from jobs import textrules
from pipeline import gutenberg as gb
from tests.support import REPO, mirror_dir

sys.path.insert(0, str(REPO / "benchmarks"))
import corpora
import measure


def test_peak_rss_counts_the_whole_process_tree() -> None:
    # A child starts a grandchild that holds 300 MiB; the child itself stays small.
    grandchild = "b = bytearray(300 * 1024 * 1024); import time; time.sleep(1.5)"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}], check=True)"
    measured = measure.measure([sys.executable, "-c", child], interval=0.05)
    assert measured.returncode == 0
    assert 300 <= measured.peak_rss_mib < 400
    assert 1.5 <= measured.wall_s < 10


def test_repeated_mirror_serves_the_shared_books_under_new_ids() -> None:
    books = corpora.mirror_books(mirror_dir())
    assert len(books) == 23
    body = textrules.read_book((mirror_dir() / "cache/epub/1342/pg1342.txt").read_bytes()).body
    assert books[0].book_id == 1342 and books[0].body_bytes == len(body.encode())
    n = corpora.books_for(3, books)
    assert sum(b.body_bytes for b in books[: n - 1]) < 3 * measure.MIB <= sum(b.body_bytes for b in books[:n])
    resolve = corpora.repeated_mirror(30, books)
    listed = gb.parse_top_page(resolve("/browse/scores/top").decode(), "yesterday")
    assert [b.book_id for b in listed] == list(range(corpora.FIRST_ID, corpora.FIRST_ID + 30))
    assert listed[23].title == f"{books[0].title} (copy 2)" and listed[23].author == books[0].author
    assert resolve(f"/cache/epub/{corpora.FIRST_ID + 24}/pg{corpora.FIRST_ID + 24}.txt") == books[1].data
    assert resolve(f"/cache/epub/{corpora.FIRST_ID + 30}/pg{corpora.FIRST_ID + 30}.txt") is None
    assert resolve("/cache/epub/1342/pg1342.txt") is None


def test_static_mirror_stays_inside_the_mirror() -> None:
    resolve = corpora.static_mirror(mirror_dir())
    assert resolve("/cache/epub/11/pg11.txt") == (mirror_dir() / "cache/epub/11/pg11.txt").read_bytes()
    assert resolve("/../../../etc/passwd") is None
    assert resolve("/cache/epub/11") is None
