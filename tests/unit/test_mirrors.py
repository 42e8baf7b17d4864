"""pipeline/mirrors.py without a server: the layouts' paths, the `[gutenberg] mirrors` syntax, resources,
the order books take the mirrors in, and the run's shared state. Against real servers:
tests/integration/test_mirrors.py."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from pipeline import gutenberg as gb
from pipeline import mirrors as mr


@pytest.mark.parametrize(
    ("book_id", "folder"),
    [(10234, "1/0/2/3/10234"), (1342, "1/3/4/1342"), (19, "1/19"), (5, "0/5"), (123456, "1/2/3/4/5/123456")],
)
def test_numbered_layout_folder_is_all_but_the_last_digit(book_id: int, folder: str) -> None:
    assert mr.book_paths("numbered", book_id) == [
        f"{folder}/{book_id}-0.txt",
        f"{folder}/{book_id}-8.txt",
        f"{folder}/{book_id}.txt",
    ]


def test_epub_and_site_layouts() -> None:
    assert mr.book_paths("epub", 84) == ["cache/epub/84/pg84.txt"]
    assert mr.book_paths("site", 84) == ["cache/epub/84/pg84.txt", "files/84/84-0.txt", "files/84/84.txt"]
    assert mr.catalog_path(84) == "cache/epub/84/pg84.rdf"


def test_parse_mirrors_in_order_with_and_without_layout() -> None:
    value = " https://gutenberg.pglaf.org/ , http://127.0.0.1:8001 numbered,http://m.example/pg epub "
    assert mr.parse_mirrors(value, "https://www.gutenberg.org") == [
        mr.Mirror("https://gutenberg.pglaf.org", None),
        mr.Mirror("http://127.0.0.1:8001", "numbered"),
        mr.Mirror("http://m.example/pg", "epub"),
    ]


@pytest.mark.parametrize("value", ["", "  ", "none", " None "])
def test_no_mirrors_mean_base_url_in_its_own_layout(value: str) -> None:
    assert not mr.listed(value)
    assert mr.parse_mirrors(value, "http://127.0.0.1:8765/") == [mr.Mirror("http://127.0.0.1:8765", "site")]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("ftp://m.example", "[gutenberg] mirrors: 'ftp://m.example': not an http(s) URL"),
        ("m.example", "[gutenberg] mirrors: 'm.example': not an http(s) URL"),
        (
            "http://m.example flat",
            "[gutenberg] mirrors: 'http://m.example flat': expected 'URL' or 'URL LAYOUT' "
            "(LAYOUT: epub, numbered, site)",
        ),
        (
            "http://a epub http://b",
            "[gutenberg] mirrors: 'http://a epub http://b': expected 'URL' or 'URL LAYOUT' "
            "(LAYOUT: epub, numbered, site)",
        ),
    ],
)
def test_bad_mirror_entries_are_named(value: str, error: str) -> None:
    with pytest.raises(gb.GutenbergError) as info:
        mr.parse_mirrors(value, "https://www.gutenberg.org")
    assert str(info.value) == error


def test_one_resource_per_host_and_port() -> None:
    assert mr.host_resource("https://www.gutenberg.org") == "gutenberg_www.gutenberg.org"
    assert mr.host_resource("http://aleph.gutenberg.org:80/x") == "gutenberg_aleph.gutenberg.org"
    assert mr.host_resource("http://127.0.0.1:8001") == "gutenberg_127.0.0.1_8001"
    # The default port is the scheme's: 443 over http is another port, as the fetch policy sees it.
    assert mr.host_resource("http://aleph.gutenberg.org:443") == "gutenberg_aleph.gutenberg.org_443"
    assert gb.host_key("http://aleph.gutenberg.org:443") == ("aleph.gutenberg.org", 443)


def test_books_take_turns_at_the_first_mirror_then_keep_the_order() -> None:
    a, b, c = (mr.Mirror(f"http://{name}", "epub") for name in "abc")
    assert [mr.ordered([a, b, c], i) for i in range(4)] == [[a, b, c], [b, a, c], [c, a, b], [a, b, c]]


def test_run_state_skips_a_mirror_once_and_keeps_layouts(tmp_path: Path) -> None:
    state = mr.RunState(tmp_path / "state.json")
    mirror = mr.Mirror("http://a")
    assert state.skip(mirror, "reset") is True
    assert state.skip(mirror, "again") is False
    with mr.RunState(tmp_path / "state.json").locked() as saved:
        saved["layouts"]["http://b"] = "numbered"
    with state.locked() as seen:
        assert seen == {"layouts": {"http://b": "numbered"}, "skipped": {"http://a": "reset"}}


def _skip_in_child(path: str, results: multiprocessing.Queue) -> None:
    results.put((mr.run_state_path().name, mr.RunState(Path(path)).skip(mr.Mirror("http://a"), "reset")))


def test_task_processes_share_their_run_state() -> None:
    """A Luigi worker's task processes are children of the run's process: one state file, one warning."""
    path = mr.run_state_path()
    assert path.name.startswith(f"gutenberg-wordcount-run-{os.getpid()}-")
    results: multiprocessing.Queue = multiprocessing.Queue()
    children = [multiprocessing.Process(target=_skip_in_child, args=(str(path), results)) for _ in range(3)]
    try:
        for child in children:
            child.start()
        for child in children:
            child.join(30)
        outcomes = sorted(results.get(timeout=5) for _ in children)
    finally:
        path.unlink(missing_ok=True)
    assert outcomes == [(path.name, False), (path.name, False), (path.name, True)]
