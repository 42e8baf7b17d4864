"""The data formats, each written and read in one place: JSON records, the Parquet corpus and its
manifest, the corpus as text lines, and THE word-count table every engine produces.

A word-count table is a Parquet directory of `word` (string) and `count` (int64) rows, by count
descending then word, in `part-*.parquet` files; files and directories starting with `_` are not part of
it (Spark's `_SUCCESS`, the Spark job's `_analysis/`). The Spark job writes it on the executors with the
same columns (jobs/word_count.py); every other engine writes it with `write_word_counts`. All of them are
read by `read_word_counts`, which checks for damage first.
"""

from __future__ import annotations

import datetime
import json
import os
import posixpath
from collections.abc import Iterable, Iterator
from typing import Any

from luigi.target import FileSystemTarget

from pipeline import storage

CORPUS_MANIFEST = "_books.json"  # leading underscore: Spark and pyarrow skip it when reading the dataset
CORPUS_PART_BYTES = 128 * 1024 * 1024
TEXT_PART_PREFIX = "part-"
WORD_COUNT_COLUMNS = ("word", "count")
WORD_COUNT_PART = "part-00000.parquet"


class DamagedOutputError(RuntimeError):
    """An output that exists (so Luigi takes it as done) but cannot be read."""


# --- JSON records ---------------------------------------------------------------------------------------


def utc_now() -> str:
    """Now, in UTC, to the second: the time stamp of every record the pipeline writes."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def write_json(target: FileSystemTarget, payload: dict[str, Any]) -> None:
    with target.open("w") as handle:
        json.dump(payload, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


def read_json(target: FileSystemTarget) -> Any:
    with target.open("r") as handle:
        return json.load(handle)


# --- the corpus -----------------------------------------------------------------------------------------


def corpus_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("book_id", pa.int64()),
            ("rank", pa.int32()),
            ("title", pa.string()),
            ("author", pa.string()),
            ("language", pa.string()),
            ("encoding", pa.string()),
            ("start_marker", pa.bool_()),
            ("end_marker", pa.bool_()),
            ("raw_bytes", pa.int64()),
            ("raw_lines", pa.int64()),
            ("body_lines", pa.int64()),
            ("body_chars", pa.int64()),
            ("text", pa.string()),
        ]
    )


def write_corpus(dest: str, rows: list[dict[str, Any]], manifest: dict[str, Any]) -> None:
    """Parquet parts of at most CORPUS_PART_BYTES of text, one row group per book, plus the manifest."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    for row in rows:
        if parts[-1] and size + len(row["text"]) > CORPUS_PART_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(row)
        size += len(row["text"])
    with storage.local_output_dir(dest) as local:
        for index, part in enumerate(parts):
            table = pa.Table.from_pylist(part, schema=corpus_schema())
            pq.write_table(table, os.path.join(local, f"part-{index:05d}.parquet"), row_group_size=1)
        with open(os.path.join(local, CORPUS_MANIFEST), "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, ensure_ascii=False, indent=2)


def read_corpus_manifest(corpus_dir: str) -> dict[str, Any]:
    """The corpus's `_books.json`: the books used (without their text) and the books skipped."""
    return read_json(storage.target(posixpath.join(corpus_dir, CORPUS_MANIFEST)))


def write_text_part(parquet_path: str, dest: str) -> None:
    """The `text` column of one corpus Parquet part as lines, one row group (book) at a time."""
    import pyarrow.parquet as pq

    source = pq.ParquetFile(parquet_path)
    with open(dest, "w", encoding="utf-8", newline="\n") as out:
        for group in range(source.num_row_groups):
            for text in source.read_row_group(group, columns=["text"]).column("text").to_pylist():
                out.writelines(text_lines(text))


def text_lines(text: str) -> Iterator[str]:
    """The non-blank lines of a corpus text, each ending in `\\n` (streaming drops a line's last char)."""
    for line in text.split("\n"):
        if line.strip():
            yield line + "\n"


# --- Parquet damage checks ------------------------------------------------------------------------------


def check_parquet_files(local: str, path: str, what: str) -> list[str]:
    """The Parquet file names in `local` (a local copy of `path`), in order; fails with one line naming
    the unreadable file and what to delete."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = sorted(name for name in os.listdir(local) if name.endswith(".parquet"))
    if not names:
        raise DamagedOutputError(f"{path}: the {what} has no Parquet files; delete {path} and rerun")
    for name in names:
        try:
            pq.ParquetFile(os.path.join(local, name)).metadata  # noqa: B018 - reads and checks the footer
        except (OSError, pa.ArrowException) as exc:
            raise DamagedOutputError(
                f"{posixpath.join(path, name)}: not a readable Parquet file ({exc}); "
                f"the {what} is damaged: delete {path} and rerun"
            ) from exc
    return names


def check_parquet_dir(path: str, what: str) -> None:
    """check_parquet_files for a directory that is not read here (Spark reads it)."""
    with storage.local_copy(path) as local:
        check_parquet_files(local, path, what)


def read_parquet_rows(path: str, what: str) -> list[dict[str, Any]]:
    """Every row of a Parquet directory (local or hdfs://) as dicts."""
    import pyarrow.parquet as pq

    with storage.local_copy(path) as local:
        check_parquet_files(local, path, what)
        return pq.read_table(local).to_pylist()


# --- the word-count table -------------------------------------------------------------------------------


def word_count_schema() -> Any:
    import pyarrow as pa

    return pa.schema([(WORD_COUNT_COLUMNS[0], pa.string()), (WORD_COUNT_COLUMNS[1], pa.int64())])


def write_word_counts(dest: str, counts: Iterable[tuple[str, int]]) -> None:
    """The word-count table of `counts` into the new directory `dest` (local or hdfs://): one file.

    `dest` is the task's temporary path: the task renames it into place when this returns.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = sorted(counts, key=lambda pair: (-pair[1], pair[0]))
    table = pa.table(
        {"word": [w for w, _ in rows], "count": [c for _, c in rows]}, schema=word_count_schema()
    )
    with storage.local_output_dir(dest) as local:
        pq.write_table(table, os.path.join(local, WORD_COUNT_PART))


def read_word_counts(path: str) -> list[tuple[str, int]]:
    """(word, count) pairs of a word-count table (local or hdfs://), in its order, after a damage check."""
    import pyarrow.parquet as pq

    with storage.local_copy(path) as local:
        check_parquet_files(local, path, "word count")
        table = pq.read_table(local, columns=list(WORD_COUNT_COLUMNS))
    return list(zip(table.column("word").to_pylist(), table.column("count").to_pylist(), strict=True))
