"""Fetching from Project Gutenberg: TopBooks -> DownloadBook x N, and CatalogRecord for a book's language.

The top-books page comes from `[gutenberg] base_url`; books and catalogue records from `[gutenberg]
mirrors` (pipeline/mirrors.py). Every task here holds the `gutenberg_<host>` resource of the host it asks
first, so `[resources]` caps the requests in flight to one host across all workers.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import time

import luigi
from luigi.parameter import ParameterVisibility

from pipeline import formats, params, storage
from pipeline import gutenberg as gb
from pipeline import mirrors as mr
from pipeline.config import gutenberg

# A child of Luigi's logger: Luigi's handler prints these lines at the level `--log-level` sets.
logger = logging.getLogger("luigi-interface." + __name__)


def client(listed: list[mr.Mirror] | None = None) -> gb.Client:
    """A Gutenberg HTTP client configured from [gutenberg]; it may fetch base_url's and the mirrors' hosts
    (`listed`, when the caller has parsed them already)."""
    cfg = gutenberg()
    listed = configured_mirrors() if listed is None else listed
    return gb.Client(
        user_agent=cfg.user_agent,
        delay_seconds=cfg.delay_seconds,
        connect_timeout=cfg.connect_timeout,
        read_timeout=cfg.read_timeout,
        max_attempts=cfg.max_attempts,
        backoff_seconds=cfg.backoff_seconds,
        max_backoff_seconds=cfg.max_backoff_seconds,
        max_bytes=cfg.max_bytes,
        max_seconds=cfg.max_seconds,
        base_url=cfg.base_url,
        mirrors=[mirror.url for mirror in listed],
        allowed_hosts=cfg.allowed_hosts,
    )


def configured_mirrors() -> list[mr.Mirror]:
    """[gutenberg] mirrors in order; base_url alone (its own layout) when the list is empty."""
    cfg = gutenberg()
    return mr.parse_mirrors(cfg.mirrors, cfg.base_url)


def mirrors() -> mr.Mirrors:
    """The configured mirrors with a client: failover between them unless base_url serves everything."""
    listed = configured_mirrors()
    return mr.Mirrors(listed, client(listed), failover=mr.listed(gutenberg().mirrors))


def first_host(home: int) -> dict[str, int]:
    """The resource of the mirror a task asks first. A bad `[gutenberg] mirrors` value is left for run()
    to report, as one line: the scheduler would print a traceback."""
    try:
        return {mr.ordered(configured_mirrors(), home)[0].resource: 1}
    except gb.GutenbergError:
        return {mr.host_resource(gutenberg().base_url): 1}


def human_bytes(n: float) -> str:
    """`724.7 kB`: a size or rate for a person."""
    for unit in ("B", "kB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


class TopBooks(luigi.Task):
    """The ranked top-books list of one day and period, as JSON under top_books/."""

    date = params.date()
    period = params.period()
    n_books = params.count(10, 1, "books the run needs (the list keeps every entry)", significant=False)

    @property
    def resources(self) -> dict[str, int]:
        return {mr.host_resource(gutenberg().base_url): 1}

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.top_books_path(self.date, self.period))

    def run(self) -> None:
        url = gb.top_page_url(gutenberg().base_url)
        if self.date != datetime.date.today():
            # Gutenberg serves only the current list: a past day's list exists only if a run fetched it then.
            logger.warning("TopBooks: the list served now is filed under %s (not today)", self.date)
        self.set_status_message(f"Fetching {url}")
        self.set_progress_percentage(0)
        page = client().get(url).decode("utf-8", errors="replace")
        self.set_status_message(f"Reading the {self.period} list")
        self.set_progress_percentage(50)
        books = gb.parse_top_page(page, self.period, source=url)
        if len(books) < self.n_books:
            logger.warning(
                "%s lists %d books for %s; %d asked for", url, len(books), self.period, self.n_books
            )
        payload = {
            "date": self.date.isoformat(),
            "period": self.period,
            "source": url,
            "fetched_at": formats.utc_now(),
            "books": [book.to_json() for book in books],
        }
        formats.write_json(self.output(), payload)
        self.set_status_message(f"{len(books)} books listed for {self.period}")
        self.set_progress_percentage(100)


class DownloadBook(luigi.Task):
    """One book's plain text exactly as served, under raw/<id>/; raw/<id>/missing.json if 404 everywhere."""

    book_id = params.count(1, 1, "Project Gutenberg ebook number")
    # Not part of the task's identity: the books fetched together with this one, so that its progress
    # bar and log line can say "book 4 of 10" whichever worker process runs it.
    batch = luigi.ListParameter(
        default=(),
        significant=False,
        visibility=ParameterVisibility.HIDDEN,
        description="ids fetched together",
    )

    @property
    def resources(self) -> dict[str, int]:
        return first_host(self.home())

    def home(self) -> int:
        """This book's place in its batch: the mirror it asks first (the batch's books take turns)."""
        ids = [int(i) for i in self.batch]
        return ids.index(self.book_id) if self.book_id in ids else 0

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.raw_book_path(self.book_id), binary=True)

    def missing(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.missing_book_path(self.book_id))

    def record(self) -> luigi.target.FileSystemTarget:
        """Size and SHA-256 of the download, written after the book: a book without it is re-fetched."""
        return storage.target(storage.download_record_path(self.book_id))

    def complete(self) -> bool:
        if self.missing().exists():
            return True
        if not self.output().exists():
            return False
        problem = self.verify()
        if problem:
            logger.warning("%s; downloading it again", problem)
            return False
        return True

    def verify(self) -> str | None:
        """Why the raw file on disk is not the one downloaded (truncated, edited, unrecorded), or None."""
        path = self.output().path
        if not self.record().exists():
            return f"{path}: no download record ({self.record().path}), so it may be incomplete"
        expected = formats.read_json(self.record())
        with self.output().open("r") as handle:
            data = handle.read()
        if len(data) != expected["bytes"] or hashlib.sha256(data).hexdigest() != expected["sha256"]:
            return f"{path}: {len(data)} bytes on disk, {expected['bytes']} downloaded (checksum differs)"
        return None

    def position(self) -> tuple[int, int]:
        """(this book's number among its batch, batch size): books of the batch already on disk + 1."""
        ids = {int(i) for i in self.batch} | {self.book_id}
        raw = storage.join("raw")
        if storage.is_hdfs(raw) or not os.path.isdir(raw):
            return 1, len(ids)
        present = {int(name) for name in os.listdir(raw) if name.isdigit()}
        return len((present & ids) - {self.book_id}) + 1, len(ids)

    def run(self) -> None:
        number, total = self.position()
        label = f"[{number}/{total}] pg{self.book_id}"
        shown = [-10]
        started = [time.monotonic()]

        def on_bytes(received: int, length: int | None) -> None:
            # Every change is a call to the scheduler: report in steps of 10%.
            percent = 100 * received // length if length else 0
            if percent >= shown[0] + 10:
                shown[0] = percent
                self.set_progress_percentage(min(percent, 99))

        def before(url: str) -> None:
            self.set_status_message(f"book {number} of {total}: GET {url}")
            started[0] = time.monotonic()

        def check(data: bytes, url: str) -> None:
            if not data:
                raise gb.GutenbergError(f"book {self.book_id}: {url}: empty response")
            if gb.looks_like_html(data):
                raise gb.GutenbergError(f"book {self.book_id}: {url}: HTML page, not plain text")

        found = mirrors().book(self.book_id, self.home(), before, check, progress=label, on_bytes=on_bytes)
        if isinstance(found, mr.Missing):
            logger.warning("book %d: not found (404) at %s; skipped", self.book_id, ", ".join(found.tried))
            formats.write_json(
                self.missing(),
                {"book_id": self.book_id, "tried": found.tried, "checked_at": formats.utc_now()},
            )
            return
        data = found.data
        with self.output().open("w") as handle:
            handle.write(data)
        record = {"mirror": found.mirror.url, "url": found.url, "bytes": len(data)}
        record["sha256"] = hashlib.sha256(data).hexdigest()
        formats.write_json(self.record(), {**record, "fetched_at": formats.utc_now()})
        seconds = max(time.monotonic() - started[0], 1e-6)
        logger.info(
            "book %d (%d of %d): %s bytes in %.1f s (%s/s) from %s",
            self.book_id,
            number,
            total,
            f"{len(data):,}",
            seconds,
            human_bytes(len(data) / seconds),
            found.url,
        )
        self.set_status_message(f"book {number} of {total}: {len(data):,} bytes")
        self.set_progress_percentage(100)

    def source(self) -> dict[str, str]:
        """The mirror and URL that served the book on disk (download.json)."""
        record = formats.read_json(self.record())
        url = record["url"]
        # Records written before mirrors existed name only the URL.
        return {"mirror": record.get("mirror", url.split("/cache/", 1)[0].split("/files/", 1)[0]), "url": url}


class CatalogRecord(luigi.Task):
    """The language codes of a book's catalogue record, as raw/<id>/catalog.json (empty if it has none).

    Asked for only for books whose header has no `Language:` line.
    """

    book_id = params.count(1, 1, "Project Gutenberg ebook number")

    @property
    def resources(self) -> dict[str, int]:
        return first_host(0)

    def output(self) -> luigi.target.FileSystemTarget:
        return storage.target(storage.catalog_record_path(self.book_id))

    def run(self) -> None:
        self.set_status_message(f"Looking up book {self.book_id}'s catalogue record")
        found = mirrors().catalog(self.book_id)
        if isinstance(found, mr.Missing):
            languages, url = [], ", ".join(found.tried)
            logger.warning(
                "book %d: no catalogue record at %s; its language stays unknown", self.book_id, url
            )
        else:
            languages, url = gb.catalog_languages(found.data), found.url
        formats.write_json(
            self.output(),
            {"book_id": self.book_id, "url": url, "languages": languages, "fetched_at": formats.utc_now()},
        )
        self.set_status_message(f"languages: {', '.join(languages) or 'none'}")
        self.set_progress_percentage(100)

    def languages(self) -> list[str]:
        return formats.read_json(self.output())["languages"]
