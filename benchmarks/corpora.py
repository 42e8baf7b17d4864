"""The corpora: the shared mirror's books served again under new ids, and built by the pipeline itself.

A loopback server lists n copies of the mirror's books (round robin, ids from FIRST_ID up) on its top
page and serves each copy's text; `luigi --module pipeline CorpusText` then downloads them and builds
CorpusParquet and CorpusText as for any top list, so every tool reads what the pipeline produces.
"""

from __future__ import annotations

import datetime
import html
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.compute as pc
import pyarrow.dataset as ds
from measure import MIB, REPO, log

from jobs import textrules
from pipeline import gutenberg as gb
from pipeline import storage

if TYPE_CHECKING:
    from minihdfs import HdfsCorpus

MIRROR = Path(os.environ.get("GUTENBERG_MIRROR", REPO.parent / "shared" / "gutenberg" / "mirror"))
BIN = Path(sys.executable).parent
LUIGI = str(BIN / "luigi") if (BIN / "luigi").exists() else "luigi"
FIRST_ID = 1_000_001  # ids of the repeated books; far above the real catalogue's
BENCH_DATE = datetime.date(2000, 1, 1)  # the corpora's TopBooks date: fixed, so reruns reuse them
PERIOD = "yesterday"

Resolver = Callable[[str], bytes | None]  # a URL path to the bytes served for it, or None for 404


@dataclass(frozen=True)
class MirrorBook:
    book_id: int
    title: str
    author: str
    data: bytes
    body_bytes: int


def mirror_books(mirror: Path = MIRROR) -> list[MirrorBook]:
    """The mirror's books in top-list order, with their body size under the text rules."""
    page = (mirror / "browse" / "scores" / "top").read_text(encoding="utf-8")
    books = []
    for ranked in gb.parse_top_page(page, "yesterday"):
        path = mirror / "cache" / "epub" / str(ranked.book_id) / f"pg{ranked.book_id}.txt"
        if path.exists():
            data = path.read_bytes()
            body = textrules.read_book(data).body
            books.append(MirrorBook(ranked.book_id, ranked.title, ranked.author, data, len(body.encode())))
    return books


def books_for(size_mib: float, books: list[MirrorBook]) -> int:
    """How many repeated books (round robin over the mirror) reach `size_mib` of body text."""
    total, n = 0, 0
    while total < size_mib * MIB:
        total += books[n % len(books)].body_bytes
        n += 1
    return n


def top_page(n: int, books: list[MirrorBook]) -> bytes:
    """A /browse/scores/top page listing n repeated books under new ids."""
    items = []
    for k in range(n):
        book = books[k % len(books)]
        label = html.escape(f"{book.title} (copy {k // len(books) + 1}) by {book.author} ({n - k})")
        items.append(f'<li><a href="/ebooks/{FIRST_ID + k}">{label}</a></li>')
    body = "\n".join(items)
    return f'<html><body><h2 id="books-last1">Top</h2>\n<ol>\n{body}\n</ol></body></html>'.encode()


class Server:
    """A loopback HTTP server answering from a resolver."""

    def __init__(self, resolve: Resolver) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = resolve(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def serving(resolve: Resolver) -> Iterator[str]:
    """A Server for the duration of the block; yields its base URL."""
    server = Server(resolve)
    try:
        yield server.url
    finally:
        server.close()


def repeated_mirror(n: int, books: list[MirrorBook]) -> Resolver:
    """The resolver of a mirror whose top list holds n copies of the shared books."""
    page = top_page(n, books)
    book_path = re.compile(r"^/cache/epub/([0-9]+)/pg\1\.txt$")

    def resolve(path: str) -> bytes | None:
        if path == "/browse/scores/top":
            return page
        match = book_path.match(path)
        if match and 0 <= int(match.group(1)) - FIRST_ID < n:
            return books[(int(match.group(1)) - FIRST_ID) % len(books)].data
        return None

    return resolve


def static_mirror(mirror: Path = MIRROR) -> Resolver:
    """The resolver of the shared mirror as it is (files below it only)."""

    def resolve(path: str) -> bytes | None:
        file = (mirror / path.lstrip("/")).resolve()
        inside = file.is_relative_to(mirror.resolve())
        return file.read_bytes() if inside and file.is_file() else None

    return resolve


def pipeline_command(task: str, *flags: str) -> list[str]:
    """`luigi --module pipeline TASK FLAGS...`, with the luigi installed beside this Python."""
    return [LUIGI, "--module", "pipeline", task, *flags]


def offline_flags(url: str, store: Path | str) -> list[str]:
    """The pipeline against a loopback mirror, without the polite delay, under the storage root `store`
    (a local path or an hdfs:// URI)."""
    return [
        "--local-scheduler",
        f"--gutenberg-base-url={url}",
        "--gutenberg-mirrors=none",
        "--gutenberg-delay-seconds=0",
        f"--storage-root={store}",
    ]


def corpus_flags(n_books: int) -> list[str]:
    """The parameters that identify the corpus of the first n repeated books."""
    return [f"--n-books={n_books}", f"--date={BENCH_DATE.isoformat()}", f"--period={PERIOD}"]


@dataclass(frozen=True)
class Corpus:
    size_mib: float
    store: Path  # the [storage] root the corpus was built under
    n_books: int
    body_bytes: int  # UTF-8 bytes of the `text` column: the MB of every MB/s
    parquet_dir: str
    text_dir: str
    text_parts: list[str]
    hdfs: HdfsCorpus | None = None  # its copy on the mini HDFS, for the HDFS rows (minihdfs.upload)


def build_corpus(size_mib: float, books: list[MirrorBook], store: Path, url: str) -> Corpus:
    """CorpusParquet and CorpusText of the first books_for(size) repeated books, by the pipeline itself.

    The paths come from pipeline.storage, so `[storage] root` must already be `store` in this process.
    """
    n = books_for(size_mib, books)
    command = pipeline_command("CorpusText", *corpus_flags(n), *offline_flags(url, store), "--workers=2")
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"building the {size_mib:g} MiB corpus failed:\n{result.stderr[-3000:]}")
    parquet_dir = Path(storage.corpus_path(BENCH_DATE, PERIOD, n))
    text_dir = Path(storage.corpus_text_path(BENCH_DATE, PERIOD, n))
    body = ds.dataset(parquet_dir, format="parquet").to_table(columns=["text"]).column("text")
    body_bytes = pc.sum(pc.binary_length(body)).as_py()
    parts = sorted(str(p) for p in text_dir.glob("part-*.txt"))
    seconds = time.monotonic() - started
    log(f"corpus {size_mib:g} MiB: {n} books, {body_bytes / MIB:.1f} MiB of body text ({seconds:.0f} s)")
    return Corpus(size_mib, store, n, body_bytes, str(parquet_dir), str(text_dir), parts)


def build_corpora(sizes: list[float], store: Path) -> list[Corpus]:
    """One corpus a size, from one repeated mirror large enough for the largest."""
    books = mirror_books()
    needed = books_for(max(sizes), books)
    # The top list is kept per date: one from a run for smaller corpora lists too few books for this one.
    top = Path(storage.top_books_path(BENCH_DATE, PERIOD))
    if top.exists() and len(json.loads(top.read_text(encoding="utf-8")).get("books", [])) < needed:
        top.unlink()
    with serving(repeated_mirror(needed, books)) as url:
        return [build_corpus(size, books, store, url) for size in sizes]
