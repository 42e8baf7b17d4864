"""Where book texts and catalogue records come from: the `[gutenberg] mirrors`, in order, each in its
layout, one failing over to the next. Project Gutenberg's robot policy asks programs to use a mirror,
not the website; only the top-books page comes from `[gutenberg] base_url`.

Mirrors serve two layouts (https://www.gutenberg.org/help/mirroring.html):

- `epub`, the generated collection: `cache/epub/N/pgN.txt`.
- `numbered`, the main collection: a folder per digit of N but the last, then N (`1/0/2/3/10234/`,
  `1/19/`, `0/5/` below 10), holding `N-0.txt` (UTF-8), `N-8.txt` (8-bit) and `N.txt` (ASCII), tried
  in that order.

`site` is www.gutenberg.org's own paths, used when no mirror is listed (everything from base_url, with
no failover). A mirror listed without its layout is asked once per run, `HEAD cache/epub/`: an answer
means `epub`, 404 means `numbered`.

What a run learns (each mirror's layout, the mirrors skipped after a failure) is shared by its worker
processes through a small locked file, so a mirror is asked its layout once and a dead mirror is named
in one warning, whichever worker meets it first.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import multiprocessing
import os
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import gutenberg as gb

logger = logging.getLogger("luigi-interface." + __name__)

LAYOUTS = ("epub", "numbered", "site")
# Asked of a mirror whose layout is not named: the generated collection's folder exists or it does not.
PROBE_PATH = "cache/epub/"


class MirrorsFailedError(gb.GutenbergError):
    """No mirror could serve a book: one line naming the book and each mirror tried, with its cause."""


@dataclass(frozen=True)
class Mirror:
    """One base URL (no trailing slash) and its layout; None until the mirror is asked."""

    url: str
    layout: str | None = None

    @property
    def resource(self) -> str:
        """The Luigi resource of this mirror's host: `gutenberg_<host>`, `gutenberg_<host>_<port>`."""
        return host_resource(self.url)


def host_resource(url: str) -> str:
    """`[resources]` key of a URL's host, so `gutenberg_<host> = N` allows N downloads from it at once.

    A port other than the scheme's joins with `_` (`:` is not allowed in a config key)."""
    host, port = gb.host_key(url)
    return f"gutenberg_{host or 'unknown'}" + ("" if port is None else f"_{port}")


def listed(value: str) -> bool:
    """Whether `[gutenberg] mirrors` lists any: empty or `none` (the command line cannot pass an empty
    value: Luigi reads `--gutenberg-mirrors=` as unset) means everything from base_url."""
    return value.strip().lower() not in ("", "none")


def parse_mirrors(value: str, base_url: str) -> list[Mirror]:
    """`URL [layout], ...` as Mirrors in order; none listed is base_url in the `site` layout."""
    if not listed(value):
        return [Mirror(base_url.rstrip("/"), "site")]
    entries = [entry.split() for entry in value.split(",") if entry.strip()]
    mirrors = []
    for words in entries:
        text = " ".join(words)
        parts = urllib.parse.urlsplit(words[0])
        if parts.scheme not in gb.SCHEMES or not parts.hostname:
            raise gb.GutenbergError(f"[gutenberg] mirrors: {text!r}: not an http(s) URL")
        if len(words) > 2 or (len(words) == 2 and words[1] not in LAYOUTS):
            raise gb.GutenbergError(
                f"[gutenberg] mirrors: {text!r}: expected 'URL' or 'URL LAYOUT' (LAYOUT: "
                f"{', '.join(LAYOUTS)})"
            )
        mirrors.append(Mirror(words[0].rstrip("/"), words[1] if len(words) == 2 else None))
    return mirrors


def book_paths(layout: str, book_id: int) -> list[str]:
    """Where a book's plain text may be under a mirror of `layout`, in the order to try."""
    n = int(book_id)
    if layout == "epub":
        return [f"cache/epub/{n}/pg{n}.txt"]
    if layout == "numbered":
        folder = f"{'/'.join(str(n)[:-1]) or '0'}/{n}"
        return [f"{folder}/{n}-0.txt", f"{folder}/{n}-8.txt", f"{folder}/{n}.txt"]
    if layout == "site":
        return [f"cache/epub/{n}/pg{n}.txt", f"files/{n}/{n}-0.txt", f"files/{n}/{n}.txt"]
    raise ValueError(f"unknown layout {layout!r}")


def catalog_path(book_id: int) -> str:
    """The book's catalogue record (RDF/XML), in the generated collection whatever the layout."""
    return f"cache/epub/{int(book_id)}/pg{int(book_id)}.rdf"


def ordered(mirrors: list[Mirror], home: int = 0) -> list[Mirror]:
    """Mirror `home` (modulo their number) first, then the others in their order: a batch's books take
    turns as first, so that under `--workers N` each mirror serves at once."""
    first = mirrors[home % len(mirrors)]
    return [first, *(m for m in mirrors if m != first)]


def _run_pid() -> int:
    """The pid of the `luigi` process this code runs for: a worker's task process is its child."""
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None and parent.pid is not None else os.getpid()


def _start_time(pid: int) -> str:
    """The process's start time (clock ticks since boot): with the pid, a run that pid reuse cannot fake."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "0"


def run_state_path() -> Path:
    """The run's state file, in the temp dir, named after the `luigi` process (pid and start time)."""
    pid = _run_pid()
    return Path(tempfile.gettempdir()) / f"gutenberg-wordcount-run-{pid}-{_start_time(pid)}.json"


@atexit.register
def _forget_run() -> None:
    # Task processes leave through os._exit, so only the run's own process gets here.
    if multiprocessing.parent_process() is None:
        with contextlib.suppress(OSError):
            run_state_path().unlink()


@dataclass
class RunState:
    """What one run learned about its mirrors: `layouts` {url: layout}, `skipped` {url: cause}."""

    path: Path = field(default_factory=run_state_path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict[str, dict[str, str]]]:
        """The state, held under an exclusive lock; changes made to it are saved."""
        with open(self.path, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            text = handle.read()
            state = json.loads(text) if text.strip() else {}
            state.setdefault("layouts", {})
            state.setdefault("skipped", {})
            before = json.dumps(state, sort_keys=True)
            yield state
            if json.dumps(state, sort_keys=True) != before:
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps(state))

    def skipped(self) -> dict[str, str]:
        with self.locked() as state:
            return dict(state["skipped"])

    def skip(self, mirror: Mirror, cause: str) -> bool:
        """Mark `mirror` skipped for the run; True if this call did (the caller then warns)."""
        with self.locked() as state:
            if mirror.url in state["skipped"]:
                return False
            state["skipped"][mirror.url] = cause
            return True


@dataclass(frozen=True)
class Served:
    """A book's text and where it came from."""

    mirror: Mirror
    url: str
    data: bytes


@dataclass(frozen=True)
class Missing:
    """Every mirror answered 404 at every address: the URLs asked."""

    tried: list[str]


class Mirrors:
    """The configured mirrors with a client and the run's state: books and catalogue records, with
    failover. Without `failover` (no mirrors listed, base_url serves) errors are raised as they come."""

    def __init__(
        self, mirrors: list[Mirror], client: gb.Client, failover: bool, state: RunState | None = None
    ) -> None:
        self.mirrors = mirrors
        self.client = client
        self.failover = failover
        self.state = state if state is not None else RunState()

    def layout(self, mirror: Mirror) -> str:
        """The mirror's layout: as listed, or asked once per run (HEAD cache/epub/) and remembered."""
        if mirror.layout is not None:
            return mirror.layout
        with self.state.locked() as state:
            if mirror.url in state["layouts"]:
                return state["layouts"][mirror.url]
            probe = f"{mirror.url}/{PROBE_PATH}"
            status = self.client.status(probe)
            if status < 400 or status == 403:
                layout = "epub"
            elif status in gb.NOT_FOUND_STATUSES:
                layout = "numbered"
            else:
                raise gb.GutenbergError(f"{probe}: HTTP {status}, so the mirror's layout is unknown")
            state["layouts"][mirror.url] = layout
        logger.info("mirror %s: %s layout (HEAD %s: HTTP %d)", mirror.url, layout, probe, status)
        return layout

    def book(
        self,
        book_id: int,
        home: int = 0,
        before: Callable[[str], None] = lambda url: None,
        check: Callable[[bytes, str], None] = lambda data, url: None,
        progress: str | None = None,
        on_bytes: gb.OnBytes | None = None,
    ) -> Served | Missing:
        """The book from the first mirror that has it; Missing if every mirror answered 404.

        `before(url)` is called before each request; `check(data, url)` raises GutenbergError for a body
        that is not a book's text (a failure of that mirror, like a reset)."""

        def attempt(mirror: Mirror) -> Served | list[str]:
            tried = []
            for path in book_paths(self.layout(mirror), book_id):
                url = f"{mirror.url}/{path}"
                before(url)
                try:
                    data = self.client.get(url, progress=progress, on_bytes=on_bytes)
                except gb.NotFoundError:
                    tried.append(url)
                    continue
                check(data, url)
                return Served(mirror, url, data)
            return tried

        return self._first(f"book {book_id}", home, attempt)

    def catalog(self, book_id: int, home: int = 0) -> Served | Missing:
        """The book's catalogue record from the first mirror that has it; Missing if none has."""

        def attempt(mirror: Mirror) -> Served | list[str]:
            url = f"{mirror.url}/{catalog_path(book_id)}"
            try:
                return Served(mirror, url, self.client.get(url))
            except gb.NotFoundError:
                return [url]

        return self._first(f"book {book_id}'s catalogue record", home, attempt)

    def _first(
        self, what: str, home: int, attempt: Callable[[Mirror], Served | list[str]]
    ) -> Served | Missing:
        tried: list[str] = []
        accounts: list[str] = []
        failed = False
        skipped = self.state.skipped() if self.failover else {}
        for mirror in ordered(self.mirrors, home):
            if mirror.url in skipped:
                failed = True
                accounts.append(f"{mirror.url} skipped earlier in this run ({skipped[mirror.url]})")
                continue
            try:
                outcome = attempt(mirror)
            except gb.GutenbergError as exc:
                if not self.failover:
                    raise
                failed = True
                cause = " ".join(str(exc).split())
                accounts.append(f"{mirror.url} failed ({cause})")
                if self.state.skip(mirror, cause):
                    logger.warning("mirror %s skipped for the rest of this run: %s", mirror.url, cause)
                continue
            if isinstance(outcome, Served):
                return outcome
            tried += outcome
            accounts.append(f"{mirror.url} has no copy (404 at {len(outcome)} URLs)")
        if failed:
            # Not "missing": a mirror that failed may well have it.
            raise MirrorsFailedError(f"{what}: no mirror could serve it: {'; '.join(accounts)}")
        return Missing(tried)
