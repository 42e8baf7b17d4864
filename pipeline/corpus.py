"""The corpus: CorpusParquet (the books decoded, normalised and stripped, as Parquet) and CorpusText (the
same bodies as text lines, for Hadoop streaming and mrjob).

CorpusTask carries the three parameters that identify one corpus; every later stage extends it.
"""

from __future__ import annotations

import itertools
import logging
import os
import posixpath
from typing import Any

import luigi

from jobs import textrules
from pipeline import formats, params, storage
from pipeline import gutenberg as gb
from pipeline.fetch import CatalogRecord, DownloadBook, TopBooks, configured_mirrors

logger = logging.getLogger("luigi-interface." + __name__)


class CorpusTask(luigi.Task):
    """Parameters shared by everything that depends on one corpus."""

    date = params.date()
    period = params.period()
    n_books = params.count(10, 1, "how many of the top books to use")

    def corpus_params(self) -> dict[str, Any]:
        return {"date": self.date, "period": self.period, "n_books": self.n_books}


class CorpusParquet(CorpusTask):
    """The decoded, normalised, stripped books as a Parquet dataset under corpus/ (+ _books.json)."""

    def requires(self) -> TopBooks:
        return TopBooks(**self.corpus_params())

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.corpus_path(self.date, self.period, self.n_books))

    def run(self) -> Any:
        configured_mirrors()  # a bad [gutenberg] mirrors value: one error here, not one per book
        top = formats.read_json(self.input())
        ranked = [gb.RankedBook(**book) for book in top["books"]]
        candidates = iter(ranked)
        rows: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        # Dynamic dependencies: a book that is 404 everywhere, binary, or without a word once stripped is
        # replaced by the next one on the list. Luigi restarts run() after each batch it had to download,
        # so the books of earlier batches are read again then, and warnings wait for the final pass.
        while len(rows) < self.n_books:
            batch = list(itertools.islice(candidates, self.n_books - len(rows)))
            if not batch:
                raise gb.GutenbergError(
                    f"{top['source']}: only {len(rows)} of the {self.n_books} books asked for are usable"
                    f" ({len(ranked)} listed for {self.period}, {len(skipped)} skipped)"
                )
            valid: list[gb.RankedBook] = []
            for book in batch:
                try:
                    DownloadBook.book_id.normalize(book.book_id)
                    valid.append(book)
                except ValueError as exc:  # an id that is not a positive int never reaches a path or URL
                    skipped.append(_skipped(book, f"invalid book id: {exc}"))
            ids = tuple(book.book_id for book in valid)
            downloads = [(book, DownloadBook(book_id=book.book_id, batch=ids)) for book in valid]
            self.set_status_message(f"Downloading {len(downloads)} books ({len(rows)}/{self.n_books} ready)")
            yield [task for _, task in downloads]
            new_rows: list[dict[str, Any]] = []
            for book, task in downloads:
                if not task.output().exists():
                    skipped.append(book.to_json())  # 404 everywhere: raw/<id>/missing.json says where
                    continue
                self.set_status_message(f"Decoding and stripping book {book.book_id}")
                row, reason = _read_downloaded(book, task)
                if reason is not None:
                    skipped.append(_skipped(book, reason))
                else:
                    # Which mirror and URL served it: in _books.json and the report's book table.
                    new_rows.append({**row, **task.source()})
                self.set_progress_percentage(95 * (len(rows) + len(new_rows)) // self.n_books)
            # A header without `Language:`: the catalogue record says (its codes, "fr" or "fr, en").
            unknown = [row for row in new_rows if row["language"] == "unknown"]
            if unknown:
                self.set_status_message(f"Looking up the language of {len(unknown)} books")
                records = [CatalogRecord(book_id=row["book_id"]) for row in unknown]
                yield records
                for row, record in zip(unknown, records, strict=True):
                    row["language"] = ", ".join(record.languages()) or "unknown"
            rows += new_rows
        for entry in (e for e in skipped if "reason" in e):
            logger.warning("book %s (rank %d): %s; skipped", entry["book_id"], entry["rank"], entry["reason"])
        manifest = {
            "date": self.date.isoformat(),
            "period": self.period,
            "n_books": self.n_books,
            "source": top["source"],
            "books": [{k: v for k, v in row.items() if k != "text"} for row in rows],
            "skipped": skipped,
        }
        self.set_status_message(f"Writing {len(rows)} books as Parquet")
        with self.output().temporary_path() as tmp:
            formats.write_corpus(tmp, rows, manifest)
        self.set_status_message(
            f"{len(rows)} books, {sum(r['body_chars'] for r in rows):,} characters; {len(skipped)} skipped"
        )
        self.set_progress_percentage(100)


def _skipped(book: gb.RankedBook, reason: str) -> dict[str, Any]:
    """A manifest `skipped` entry for a book that was downloaded (or refused) but cannot be counted."""
    return {**book.to_json(), "reason": reason}


def _read_downloaded(book: gb.RankedBook, task: DownloadBook) -> tuple[dict[str, Any], str | None]:
    """The corpus row of a downloaded book, or why it is skipped (binary, no words: see the text rules)."""
    with task.output().open("r") as handle:
        data = handle.read()
    reason = textrules.binary_reason(data)
    if reason is not None:
        return {}, reason
    parsed = textrules.read_book(data)
    return _corpus_row(book, parsed), textrules.no_words_reason(parsed)


def _corpus_row(book: gb.RankedBook, parsed: textrules.Book) -> dict[str, Any]:
    return {
        "book_id": book.book_id,
        "rank": book.rank,
        "title": book.title,
        "author": book.author,
        "language": parsed.language,
        "encoding": parsed.encoding,
        "start_marker": parsed.start_marker,
        "end_marker": parsed.end_marker,
        "raw_bytes": parsed.raw_bytes,
        "raw_lines": parsed.raw_lines,
        "body_lines": parsed.body_lines,
        "body_chars": len(parsed.body),
        "text": parsed.body,
    }


class CorpusText(CorpusTask):
    """The corpus as UTF-8 text, one body line per line (blank lines left out), under corpus_text/."""

    def requires(self) -> CorpusParquet:
        return CorpusParquet(**self.corpus_params())

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.corpus_text_path(self.date, self.period, self.n_books))

    def run(self) -> None:
        source = self.input().path
        with storage.local_copy(source) as corpus:
            # Checked before the output's temporary directory exists: a damaged corpus leaves nothing behind.
            parts = formats.check_parquet_files(corpus, source, "corpus")
            with self.output().temporary_path() as tmp, storage.local_output_dir(tmp) as local:
                for index, name in enumerate(parts):
                    self.set_status_message(f"Writing text part {index + 1} of {len(parts)}")
                    dest = os.path.join(local, f"{formats.TEXT_PART_PREFIX}{index:05d}.txt")
                    formats.write_text_part(os.path.join(corpus, name), dest)
                    self.set_progress_percentage(100 * (index + 1) // len(parts))

    def part_targets(self, hadoop: bool = False) -> list[luigi.target.FileSystemTarget]:
        """The text parts, in order (a directory is not a valid input for Luigi's LocalJobRunner)."""
        target = self.output()
        names = sorted(posixpath.basename(p) for p in target.fs.listdir(target.path))
        return [
            storage.target(posixpath.join(target.path, name), hadoop=hadoop)
            for name in names
            if name.startswith(formats.TEXT_PART_PREFIX)
        ]
