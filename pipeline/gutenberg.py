"""Project Gutenberg over HTTP: the top-books page parser and a polite, retrying client."""

from __future__ import annotations

import contextlib
import email.utils
import fcntl
import html.parser
import ipaddress
import logging
import os
import re
import socket
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import requests
import urllib3.exceptions
from tqdm import tqdm

# A child of Luigi's logger: its handler prints these lines, at its level.
logger = logging.getLogger("luigi-interface." + __name__)

# (hostname, port or None for the scheme's default) of each host a client may fetch.
HostKeys = frozenset[tuple[str, int | None]]
# Called with the bytes received so far and the announced length (None without Content-Length).
OnBytes = Callable[[int, "int | None"], None]

PERIOD_SECTIONS = {"yesterday": "books-last1", "last7": "books-last7", "last30": "books-last30"}
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
NOT_FOUND_STATUSES = frozenset({404, 410})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# [0-9], not \d: \d also matches other scripts' digits, which int() would turn into a different book id.
_EBOOK_HREF = re.compile(r"^/ebooks/([0-9]+)/?$")
_LABEL = re.compile(r"^(?P<label>.*?)\s*\((?P<downloads>[\d,]+)\)\s*$", re.DOTALL)
_HTML_START = re.compile(rb"^\s*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.IGNORECASE)


class GutenbergError(Exception):
    """A fetch or parse failure; the message is one line naming the URL or book and the cause."""


class NotFoundError(GutenbergError):
    """The server answered 404 or 410."""


class UnavailableError(GutenbergError):
    """A URL that still failed after every retry: timeouts, resets, 5xx or 429, bodies cut short."""


class RefusedError(GutenbergError):
    """A URL the client will not fetch: another host, a private address, or a scheme other than http(s)."""


class _RetryableError(Exception):
    """A transient failure of one attempt (5xx, 429): the cause and the server's Retry-After, if any."""

    def __init__(self, cause: str, retry_after: float | None) -> None:
        super().__init__(cause)
        self.cause, self.retry_after = cause, retry_after


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
    seen: set[int] = set()
    for href, text in parser.items:
        href_match = _EBOOK_HREF.match(href)
        label_match = _LABEL.match(" ".join(text.split()))
        if href_match is None or label_match is None:
            raise GutenbergError(f"{source}: unexpected entry {href!r} {text.strip()!r} in section {section}")
        book_id = int(href_match.group(1))
        if book_id in seen:
            # The same book twice would be downloaded and counted twice; the first (higher) rank wins.
            logger.warning("%s: book %s listed twice in section %s; duplicate ignored", source, href, section)
            continue
        seen.add(book_id)
        title, sep, author = label_match.group("label").rpartition(" by ")
        books.append(
            RankedBook(
                rank=len(books) + 1,
                book_id=book_id,
                title=title if sep else author,
                author=author if sep else "",
                downloads=int(label_match.group("downloads").replace(",", "")),
            )
        )
    if not books:
        raise GutenbergError(f"{source}: section {section} lists no books")
    return books


# <dcterms:language><rdf:Description ...><rdf:value ...>fr</rdf:value>: read with a pattern, not an XML
# parser, so that a hostile record (entity expansion) costs nothing.
_CATALOG_LANGUAGE = re.compile(
    rb"<dcterms:language>\s*(?:<rdf:Description[^>]*>\s*)?<rdf:value[^>]*>\s*([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)\s*<"
)


def catalog_languages(record: bytes) -> list[str]:
    """The language codes of a catalogue record, in order (`["en"]`, `["fr", "en"]`); [] if it has none."""
    return [m.group(1).decode("ascii") for m in _CATALOG_LANGUAGE.finditer(record)]


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


def host_key(url: str) -> tuple[str, int | None]:
    """(hostname, port) of a URL; the port is None when it is its scheme's default (80, 443)."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    scheme_default = _DEFAULT_PORTS.get(parts.scheme.lower())
    return (parts.hostname or "").lower(), None if port in (None, scheme_default) else port


def host_text(key: tuple[str, int | None]) -> str:
    """`host` or `host:port`, as a person writes it."""
    return key[0] if key[1] is None else f"{key[0]}:{key[1]}"


def _parse_hosts(hosts: Iterable[str] | str) -> HostKeys:
    """`host` or `host:port` entries (comma-separated when a string) as host_key values."""
    items = hosts.split(",") if isinstance(hosts, str) else hosts
    keys = set()
    for item in (h.strip() for h in items):
        if item:
            parts = urllib.parse.urlsplit(item if "//" in item else f"//{item}")
            keys.add(((parts.hostname or "").lower(), parts.port))
    return frozenset(keys)


def _private_address(host: str) -> str | None:
    """The private, loopback, link-local or reserved address `host` is (or resolves to), else None."""
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except (OSError, UnicodeError):
            return None  # the request itself then fails with "host not found"
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_reserved
            or address.is_multicast
            or address.is_unspecified
        ):
            return str(address)
    return None


class Client:
    """GET with a User-Agent, timeouts, retries with backoff, per-host politeness and a fetch policy.

    Only the Gutenberg hosts are fetched: the host of `base_url` and of each of `mirrors` (or, when none
    is given, the host of the URL passed to `get`) plus `allowed_hosts`. Redirects are followed by hand,
    at most MAX_REDIRECTS, and only to those hosts over http(s); an allowed extra host that is a private
    or loopback address is refused too (the listed hosts are trusted as configured, so a loopback mirror
    works). Each download is capped at `max_bytes` (decoded) and `max_seconds` (from the first request
    to the last byte).
    """

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
        max_seconds: float,
        allowed_hosts: Iterable[str] | str,
        base_url: str | None = None,
        mirrors: Iterable[str] = (),
    ) -> None:
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        # We keep .txt files as served: ask for no compression (a server that compresses anyway is
        # decoded under the same max_bytes cap, counted on the decoded size).
        self.session.headers["Accept-Encoding"] = "identity"
        self.delay_seconds = delay_seconds
        self.timeout = (connect_timeout, read_timeout)
        self.max_attempts = max(1, max_attempts)
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.max_bytes = max_bytes
        self.max_seconds = float(max_seconds)
        self.trusted_hosts = frozenset(host_key(url) for url in (base_url, *mirrors) if url)
        self.allowed_hosts = _parse_hosts(allowed_hosts)
        self._throttles: dict[str, HostThrottle] = {}

    def _throttle(self, url: str) -> HostThrottle:
        netloc = urllib.parse.urlsplit(url).netloc
        if netloc not in self._throttles:
            self._throttles[netloc] = HostThrottle(netloc, self.delay_seconds)
        return self._throttles[netloc]

    def check_url(self, url: str, trusted: HostKeys, origin: str) -> None:
        """RefusedError unless `url` may be fetched; `origin` is the URL asked for (named in the message)."""
        what = "" if url == origin else f"redirect to {url}: "
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if scheme not in SCHEMES:
            raise RefusedError(f"{origin}: {what}refused: scheme {scheme or 'none'!r} is not http or https")
        key = host_key(url)
        if key in trusted:
            return
        host = host_text(key)
        if key not in self.allowed_hosts and (key[0], None) not in self.allowed_hosts:
            listed = ", ".join(sorted(host_text(k) for k in trusted))
            which = f"the Gutenberg host {listed}" if len(trusted) == 1 else f"a Gutenberg host ({listed})"
            raise RefusedError(
                f"{origin}: {what}refused: host {host} is not {which} (nor in [gutenberg] allowed_hosts)"
            )
        address = _private_address(key[0])
        if address is not None:
            raise RefusedError(
                f"{origin}: {what}refused: host {host} is a private or loopback address ({address})"
            )

    def get(self, url: str, progress: str | None = None, on_bytes: OnBytes | None = None) -> bytes:
        """The body of `url`; NotFoundError on 404/410, RefusedError by the fetch policy, UnavailableError
        once retries are spent, GutenbergError on any other failure.

        `progress` labels a terminal progress bar; `on_bytes(received, total or None)` is called as the
        body arrives.
        """
        return self._with_retries(
            url, lambda trusted: self._get_once(url, trusted, "GET", progress, on_bytes)
        )

    def status(self, url: str) -> int:
        """The status of one HEAD request for `url` (redirects followed by the fetch policy, transient
        failures retried like `get`): 200, 403, 404, ..."""
        return self._with_retries(url, lambda trusted: self._get_once(url, trusted, "HEAD", None, None))

    def _with_retries(self, url: str, attempt_once: Callable[[HostKeys], Any]) -> Any:
        trusted = self.trusted_hosts or frozenset({host_key(url)})
        self.check_url(url, trusted, url)
        pause = self.backoff_seconds
        for attempt in range(1, self.max_attempts + 1):
            retry_after = None
            try:
                return attempt_once(trusted)
            except _RetryableError as exc:
                cause, retry_after = exc.cause, exc.retry_after
            except requests.RequestException as exc:
                cause = _describe(exc)
            if attempt == self.max_attempts:
                break
            wait = min(retry_after if retry_after is not None else pause, self.max_backoff_seconds)
            logger.warning("%s: %s; retry %d/%d in %.1fs", url, cause, attempt, self.max_attempts - 1, wait)
            time.sleep(wait)
            pause *= 2
        raise UnavailableError(f"{url}: {cause} (gave up after {self.max_attempts} attempts)")

    def _get_once(
        self,
        url: str,
        trusted: HostKeys,
        method: str,
        progress: str | None,
        on_bytes: OnBytes | None,
    ) -> Any:
        """One attempt: the request and the redirects it leads to, each checked by the fetch policy. GET
        gives the body; HEAD gives the final status."""
        deadline = time.monotonic() + self.max_seconds
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            self._throttle(current).wait()
            where = url if current == url else f"{url} (redirected to {current})"
            response = self.session.request(
                method, current, timeout=self.timeout, stream=True, allow_redirects=False
            )
            with response:
                status = response.status_code
                if status in REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        raise GutenbergError(f"{where}: HTTP {status} without a Location header")
                    target = urllib.parse.urljoin(current, location.strip())
                    self.check_url(target, trusted, url)
                    current = target
                    continue
                if status in RETRY_STATUSES:
                    raise _RetryableError(f"HTTP {status}", _retry_after(response.headers.get("Retry-After")))
                if method == "HEAD":
                    return status
                if status in NOT_FOUND_STATUSES:
                    raise NotFoundError(f"{where}: HTTP {status}")
                if status >= 400:
                    raise GutenbergError(f"{where}: HTTP {status} {response.reason}")
                if status != 200:
                    raise GutenbergError(f"{where}: unexpected HTTP {status} {response.reason}")
                return self._read(response, where, progress, deadline, on_bytes)
        raise GutenbergError(f"{url}: more than {MAX_REDIRECTS} redirects (last to {current})")

    def _chunks(self, response: requests.Response, url: str, deadline: float) -> Iterator[bytes]:
        """The decoded body as it arrives (read1: no waiting for a full chunk), within the time cap.

        urllib3's errors become the requests exceptions iter_content would raise, so that they are
        retried and described alike.
        """
        raw = response.raw
        while True:
            if time.monotonic() > deadline:
                raise GutenbergError(f"{url}: download took longer than the {self.max_seconds:g}-second cap")
            try:
                chunk = raw.read1(64 * 1024, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError as exc:
                raise requests.ReadTimeout(exc) from exc
            except urllib3.exceptions.ProtocolError as exc:
                raise requests.exceptions.ChunkedEncodingError(exc) from exc
            except urllib3.exceptions.DecodeError as exc:
                raise requests.exceptions.ContentDecodingError(exc) from exc
            except urllib3.exceptions.SSLError as exc:
                raise requests.exceptions.SSLError(exc) from exc
            if not chunk:
                return
            yield chunk

    def _read(
        self,
        response: requests.Response,
        url: str,
        progress: str | None,
        deadline: float,
        on_bytes: OnBytes | None = None,
    ) -> bytes:
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
            for chunk in self._chunks(response, url, deadline):
                size += len(chunk)
                if size > self.max_bytes:
                    raise GutenbergError(f"{url}: body exceeds the {self.max_bytes}-byte cap")
                chunks.append(chunk)
                bar.update(len(chunk))
                if on_bytes is not None:
                    on_bytes(size, total)
        return b"".join(chunks)
