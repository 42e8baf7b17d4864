"""Every output path, built in one place from the parameters that identify the output.

The root is `[storage] root`: a local path (default `data`) or an `hdfs://` URI. Paths are joined
with `/` so the same code serves both; `target()` picks the Luigi target class from the scheme.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import posixpath
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import luigi
import luigi.format

from jobs.textrules import BUILTIN_STOPWORDS
from pipeline.config import storage


def root() -> str:
    return storage().root.rstrip("/") or "/"


def is_hdfs(path: str) -> bool:
    return path.startswith("hdfs://")


def join(*parts: str) -> str:
    """`root()/part/part...`; parts are produced by this module, never taken raw from downloaded data."""
    return posixpath.join(root(), *parts)


def target(path: str, binary: bool = False, hadoop: bool = False) -> luigi.target.FileSystemTarget:
    """A Luigi target for `path`: LocalTarget, or for hdfs:// URIs a WebHdfsTarget (`[hdfs] client =
    webhdfs`, the project's setting) or HdfsTarget (`hadoopcli`, and always when `hadoop` is set: Luigi's
    Hadoop streaming runner accepts only HdfsTarget)."""
    fmt: Any = luigi.format.Nop if binary else luigi.format.UTF8
    if not is_hdfs(path):
        return luigi.LocalTarget(path, format=fmt)
    # Imported lazily: only HDFS users need the HDFS client configuration.
    from luigi.contrib.hdfs import HdfsTarget
    from luigi.contrib.hdfs.config import get_configured_hdfs_client

    from pipeline.hdfs import HadoopCliClient, webhdfs_target

    client = get_configured_hdfs_client()
    if hadoop or client == "hadoopcli":
        return HdfsTarget(path, format=fmt, fs=HadoopCliClient())
    if client != "webhdfs":
        return HdfsTarget(path, format=fmt)
    return webhdfs_target(path, fmt)


def remove(path: str) -> None:
    """Delete `path` (a directory with its contents). HDFS deletes skip the trash: what is removed here is
    a partial or outdated output, never a user's file; luigi's WebHDFS client refuses anything else."""
    fs = target(path).fs
    if is_hdfs(path):
        fs.remove(path, skip_trash=True)
    else:
        fs.remove(path)


@contextlib.contextmanager
def local_copy(path: str) -> Iterator[str]:
    """A local path holding `path`'s contents: the path itself, or a temporary copy of an hdfs:// one.

    pyarrow reads Parquet only from local files here (its HDFS support needs libhdfs and a JVM setup).
    """
    if not is_hdfs(path):
        yield path
        return
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, posixpath.basename(path.rstrip("/")))
        target(path).fs.get(path, local)
        yield local


@contextlib.contextmanager
def local_output_dir(dest: str) -> Iterator[str]:
    """A local directory to write `dest`'s files into: `dest` itself, or for an hdfs:// `dest` a
    staging directory that is uploaded to `dest` when the block succeeds."""
    if not is_hdfs(dest):
        os.makedirs(dest, exist_ok=True)
        yield dest
        return
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, posixpath.basename(dest.rstrip("/")))
        os.makedirs(local)
        yield local
        target(dest).fs.put(local, dest)


def run_key(date: datetime.date, period: str, n_books: int) -> str:
    """The part of a path that identifies one corpus: which list, which day, how many books."""
    return f"{period}/{date.isoformat()}/books-{n_books}"


def stopwords_key(spec: str) -> str:
    """`english`, `none`, or `file-<hash of the file's bytes>`: editing a stop-word file changes the key."""
    if spec in BUILTIN_STOPWORDS:
        return spec
    path = Path(spec)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError as exc:
        raise ValueError(f"stop-word file {spec}: {exc.strerror or exc}") from exc
    return f"file-{digest}"


def top_books_path(date: datetime.date, period: str) -> str:
    return join("top_books", period, f"{date.isoformat()}.json")


def raw_book_path(book_id: int) -> str:
    return join("raw", str(book_id), f"pg{book_id}.txt")


def catalog_record_path(book_id: int) -> str:
    return join("raw", str(book_id), "catalog.json")


def download_record_path(book_id: int) -> str:
    return join("raw", str(book_id), "download.json")


def missing_book_path(book_id: int) -> str:
    return join("raw", str(book_id), "missing.json")


def corpus_path(date: datetime.date, period: str, n_books: int) -> str:
    return join("corpus", run_key(date, period, n_books))


def corpus_text_path(date: datetime.date, period: str, n_books: int) -> str:
    return join("corpus_text", run_key(date, period, n_books))


def word_counts_path(engine: str, date: datetime.date, period: str, n_books: int) -> str:
    return join("word_counts", engine, run_key(date, period, n_books))


def top_words_prefix(
    engine: str, date: datetime.date, period: str, n_books: int, n_words: int, stopwords: str
) -> str:
    """Common prefix of the CSV, JSON and PNG of one top-words report."""
    name = f"top-{n_words}_stop-{stopwords_key(stopwords)}"
    return join("top_words", engine, run_key(date, period, n_books), name)


def trend_prefix(engine: str, interval: str, period: str, n_books: int, n_words: int, stopwords: str) -> str:
    """Common prefix of the outputs of one top-words trend over a date interval (`2026-11-18-2026-11-20`)."""
    name = f"top-{n_words}_stop-{stopwords_key(stopwords)}"
    return join("trends", engine, period, interval, f"books-{n_books}", name)


def timing_path(task_family: str, task_id: str) -> str:
    """Where a task records how long its last run took (read by the end-of-run summary)."""
    return join("timings", task_family, f"{task_id}.json")
