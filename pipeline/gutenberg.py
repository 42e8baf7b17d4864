"""Project Gutenberg over HTTP: the top-books page parser and a polite, retrying client."""

from __future__ import annotations

import contextlib
import email.utils
import fcntl
import html.parser
import logging
import os
import re
import tempfile
import time
import urllib.parse
from dataclasses import asdict, dataclass
from typing import Any

import requests
from tqdm import tqdm

logger = logging.getLogger("luigi-interface")

PERIOD_SECTIONS = {"yesterday": "books-last1", "last7": "books-last7", "last30": "books-last30"}
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
NOT_FOUND_STATUSES = frozenset({404, 410})
_EBOOK_HREF = re.compile(r"^/ebooks/(\d+)/?$")
_LABEL = re.compile(r"^(?P<label>.*?)\s*\((?P<downloads>[\d,]+)\)\s*$", re.DOTALL)
_HTML_START = re.compile(rb"^\s*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.IGNORECASE)


class GutenbergError(Exception):
    """A fetch or parse failure; the message is one line naming the URL or book and the cause."""


class NotFoundError(GutenbergError):
    """The server answered 404 or 410."""


@dataclass(frozen=True)
class RankedBook:
    rank: int
    book_id: int
    title: str
    author: str
    downloads: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def top_page_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/browse/scores/top"


def book_urls(base_url: str, book_id: int) -> list[str]:
    """Where a book's plain text may be, in the order to try."""
    base = base_url.rstrip("/")
    return [
        f"{base}/cache/epub/{book_id}/pg{book_id}.txt",
        f"{base}/files/{book_id}/{book_id}-0.txt",
        f"{base}/files/{book_id}/{book_id}.txt",
    ]


class _TopPageParser(html.parser.HTMLParser):
    """Collects (href, text) of the links in the first <ol> after <h2 id=section>."""

    def __init__(self, section: str) -> None:
        super().__init__(convert_charrefs=True)
        self.section = section
        self.found_section = False
        self.state = "before"  # before -> after_h2 -> in_ol -> done
        self.items: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.state == "before" and tag == "h2" and dict(attrs).get("id") == self.section:
            self.found_section, self.state = True, "after_h2"
        elif self.state == "after_h2" and tag == "ol":
            self.state = "in_ol"
        elif self.state == "in_ol" and tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", []

    def handle_endtag(self, tag: str) -> None:
        if self.state == "in_ol" and tag == "a" and self._href is not None:
            self.items.append((self._href, "".join(self._text)))
            self._href = None
        elif self.state == "in_ol" and tag == "ol":
            self.state = "done"

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)


def parse_top_page(page: str, period: str, source: str = "top page") -> list[RankedBook]:
    """The ranked books of `period` on a /browse/scores/top page."""
    section = PERIOD_SECTIONS[period]
    parser = _TopPageParser(section)
    parser.feed(page)
    parser.close()
    if not parser.found_section:
        raise GutenbergError(f'{source}: no <h2 id="{section}"> section (period {period!r})')
    books: list[RankedBook] = []
    for href, text in parser.items:
        href_match = _EBOOK_HREF.match(href)
        label_match = _LABEL.match(" ".join(text.split()))
        if href_match is None or label_match is None:
            raise GutenbergError(f"{source}: unexpected entry {href!r} {text.strip()!r} in section {section}")
        title, sep, author = label_match.group("label").rpartition(" by ")
        books.append(
            RankedBook(
                rank=len(books) + 1,
                book_id=int(href_match.group(1)),
                title=title if sep else author,
                author=author if sep else "",
                downloads=int(label_match.group("downloads").replace(",", "")),
            )
        )
    if not books:
        raise GutenbergError(f"{source}: section {section} lists no books")
    return books


def looks_like_html(body: bytes) -> bool:
    return _HTML_START.match(body[:512]) is not None


class HostThrottle:
    """Spaces requests to one host at least `delay` seconds apart, across processes (Luigi workers)."""

    def __init__(self, netloc: str, delay: float) -> None:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", netloc)
        self.path = os.path.join(tempfile.gettempdir(), f"gutenberg-wordcount-{safe}.throttle")
        self.delay = delay

    def wait(self) -> None:
        if self.delay <= 0:
            return
        with open(self.path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            try:
                last = float(handle.read() or 0)
            except ValueError:
                last = 0.0
            pause = last + self.delay - time.time()
            if pause > 0:
                time.sleep(pause)
            handle.seek(0)
            handle.truncate()
            handle.write(repr(time.time()))


def _describe(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timed out"
    if isinstance(exc, requests.ReadTimeout):
        return "read timed out"
    text = str(exc).lower()
    for needle, cause in (
        ("refused", "connection refused"),
        ("reset", "connection reset"),
        ("incompleteread", "body cut short"),
        ("name or service not known", "host not found"),
        ("failed to resolve", "host not found"),
    ):
        if needle in text:
            return cause
    return type(exc).__name__


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None


class Client:
    """GET with a User-Agent, timeouts, retries with backoff and per-host politeness."""

    def __init__(
        self,
        *,
        user_agent: str,
        delay_seconds: float,
        connect_timeout: float,
        read_timeout: float,
        max_attempts: int,
        backoff_seconds: float,
        max_backoff_seconds: float,
        max_bytes: int,
    ) -> None:
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.delay_seconds = delay_seconds
        self.timeout = (connect_timeout, read_timeout)
        self.max_attempts = max(1, max_attempts)
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.max_bytes = max_bytes
        self._throttles: dict[str, HostThrottle] = {}

    def _throttle(self, url: str) -> HostThrottle:
        netloc = urllib.parse.urlsplit(url).netloc
        if netloc not in self._throttles:
            self._throttles[netloc] = HostThrottle(netloc, self.delay_seconds)
        return self._throttles[netloc]

    def get(self, url: str, progress: str | None = None) -> bytes:
        """The body of `url`; NotFoundError on 404/410, GutenbergError once retries are spent."""
        pause = self.backoff_seconds
        for attempt in range(1, self.max_attempts + 1):
            self._throttle(url).wait()
            retry_after = None
            try:
                with self.session.get(url, timeout=self.timeout, stream=True) as response:
                    status = response.status_code
                    if status in NOT_FOUND_STATUSES:
                        raise NotFoundError(f"{url}: HTTP {status}")
                    if status in RETRY_STATUSES:
                        cause = f"HTTP {status}"
                        retry_after = _retry_after(response.headers.get("Retry-After"))
                    elif status >= 400:
                        raise GutenbergError(f"{url}: HTTP {status} {response.reason}")
                    else:
                        return self._read(response, url, progress)
            except requests.RequestException as exc:
                cause = _describe(exc)
            if attempt == self.max_attempts:
                break
            wait = min(retry_after if retry_after is not None else pause, self.max_backoff_seconds)
            logger.warning("%s: %s; retry %d/%d in %.1fs", url, cause, attempt, self.max_attempts - 1, wait)
            time.sleep(wait)
            pause *= 2
        raise GutenbergError(f"{url}: {cause} (gave up after {self.max_attempts} attempts)")

    def _read(self, response: requests.Response, url: str, progress: str | None) -> bytes:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > self.max_bytes:
            raise GutenbergError(f"{url}: body of {total} bytes exceeds the {self.max_bytes}-byte cap")
        chunks: list[bytes] = []
        size = 0
        # tqdm turns itself off when stderr is not a terminal, so logs stay clean in CI and cron.
        with tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            desc=progress,
            disable=None if progress else True,
            leave=False,
        ) as bar:
            for chunk in response.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > self.max_bytes:
                    raise GutenbergError(f"{url}: body exceeds the {self.max_bytes}-byte cap")
                chunks.append(chunk)
                bar.update(len(chunk))
        return b"".join(chunks)
