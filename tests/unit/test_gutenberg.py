"""pipeline/gutenberg.py on literal input: the top-page parser, the HTML check, the fetch policy, the
throttle and catalogue records (book URLs per layout: test_mirrors.py). The client against real servers is in
tests/integration/test_gutenberg.py and test_faults.py."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from jobs import textrules
from pipeline import gutenberg as gb
from tests.support import gutenberg_client as client

# --- the top page ---------------------------------------------------------------------------------

PAGE = """<html><body>
<h2 id="books-last1">Top yesterday</h2>
<ol>
<li><a href="/ebooks/7">Alice &amp; Bob: Stand by Me by Carol Smith (1,234)</a></li>
<li><a href="/ebooks/8/">The Bible, King James Version (99)</a></li>
</ol>
<h2 id="books-last7">Top 7 days</h2>
<ol><li><a href="/ebooks/9">Nine by Nobody (5)</a></li></ol>
</body></html>"""


def test_parse_entities_last_by_and_missing_author() -> None:
    assert gb.parse_top_page(PAGE, "yesterday") == [
        gb.RankedBook(1, 7, "Alice & Bob: Stand by Me", "Carol Smith", 1234),
        gb.RankedBook(2, 8, "The Bible, King James Version", "", 99),
    ]
    assert gb.parse_top_page(PAGE, "last7") == [gb.RankedBook(1, 9, "Nine", "Nobody", 5)]


def test_parse_missing_section_names_source_and_section() -> None:
    with pytest.raises(gb.GutenbergError) as info:
        gb.parse_top_page(PAGE, "last30", source="http://x/browse/scores/top")
    assert (
        str(info.value) == "http://x/browse/scores/top: no <h2 id=\"books-last30\"> section (period 'last30')"
    )


def top_page(hrefs: list[str]) -> str:
    items = "".join(f'<li><a href="{h}">Book by Someone (10)</a></li>\n' for h in hrefs)
    return f'<h2 id="books-last1">Top</h2>\n<ol>\n{items}</ol>\n'


def test_top_page_parser_yields_ints_and_refuses_other_hrefs() -> None:
    books = gb.parse_top_page(top_page(["/ebooks/84", "/ebooks/1342/"]), "yesterday")
    assert [(b.book_id, type(b.book_id)) for b in books] == [(84, int), (1342, int)]
    for href in ["/ebooks/-1", "/ebooks/../x", "/ebooks/1/../2", "/ebooks/84?x=1", "https://evil/ebooks/84"]:
        with pytest.raises(gb.GutenbergError, match="unexpected entry"):
            gb.parse_top_page(top_page([href]), "yesterday")


def test_top_page_parser_yields_only_ascii_decimal_ids() -> None:
    with pytest.raises(gb.GutenbergError):
        gb.parse_top_page(top_page(["/ebooks/٣"]), "yesterday")
    # 0 is a well-formed entry; CorpusParquet skips it as an invalid id (integration/test_security.py).
    assert [b.book_id for b in gb.parse_top_page(top_page(["/ebooks/0"]), "yesterday")] == [0]


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def page_with(entries: str) -> str:
    return f'<html><body><h2 id="books-last1">Top</h2>\n<ol>\n{entries}</ol></body></html>'


def test_top_page_non_numeric_id_is_an_error() -> None:
    page = page_with('<li><a href="/ebooks/abc">Odd by Nobody (5)</a></li>\n')
    with pytest.raises(gb.GutenbergError) as info:
        gb.parse_top_page(page, "yesterday", source="u")
    assert str(info.value) == "u: unexpected entry '/ebooks/abc' 'Odd by Nobody (5)' in section books-last1"


def test_top_page_duplicate_ids_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    page = page_with(
        '<li><a href="/ebooks/84">Frankenstein by Mary Shelley (9)</a></li>\n'
        '<li><a href="/ebooks/11">Alice by Lewis Carroll (8)</a></li>\n'
        '<li><a href="/ebooks/84/">Frankenstein by Mary Shelley (7)</a></li>\n'
        '<li><a href="/ebooks/76">Huck by Mark Twain (6)</a></li>\n'
    )
    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        books = gb.parse_top_page(page, "yesterday", source="u")
    assert [(b.rank, b.book_id, b.downloads) for b in books] == [(1, 84, 9), (2, 11, 8), (3, 76, 6)]
    assert warnings_of(caplog) == [
        "u: book /ebooks/84/ listed twice in section books-last1; duplicate ignored"
    ]


# --- book bodies ----------------------------------------------------------------------------------


def test_looks_like_html() -> None:
    assert gb.looks_like_html(b"\n  <!DOCTYPE html><html>captcha</html>")
    assert gb.looks_like_html(b"<HTML><body>")
    assert not gb.looks_like_html(b"The Project Gutenberg EBook of <html> tricks")


# --- the fetch policy and the throttle ------------------------------------------------------------


def test_allowed_public_host_passes_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("152.19.134.47", 0))])
    http = client(base_url="https://www.gutenberg.org", allowed_hosts="gutenberg.pglaf.org, mirror.x:8080")
    base = http.trusted_hosts
    http.check_url("http://gutenberg.pglaf.org/cache/epub/84/pg84.txt", base, "https://www.gutenberg.org/x")
    http.check_url("http://mirror.x:8080/84.txt", base, "https://www.gutenberg.org/x")
    http.check_url("http://www.gutenberg.org/84.txt", base, "https://www.gutenberg.org/x")  # http -> https
    with pytest.raises(gb.RefusedError):
        http.check_url("http://mirror.x:8081/84.txt", base, "https://www.gutenberg.org/x")


def test_listed_mirrors_are_trusted_and_named_when_a_host_is_refused() -> None:
    http = client(base_url="http://127.0.0.1:8000", mirrors=["http://127.0.0.1:8001", "https://m.example/pg"])
    trusted = http.trusted_hosts
    assert trusted == {("127.0.0.1", 8000), ("127.0.0.1", 8001), ("m.example", None)}
    http.check_url(
        "http://127.0.0.1:8001/1/2/12/12-0.txt", trusted, "http://127.0.0.1:8001/x"
    )  # loopback, listed
    with pytest.raises(gb.RefusedError) as info:
        http.check_url("http://127.0.0.1:8002/x", trusted, "http://127.0.0.1:8001/x")
    assert str(info.value) == (
        "http://127.0.0.1:8001/x: redirect to http://127.0.0.1:8002/x: refused: host 127.0.0.1:8002 is not a "
        "Gutenberg host (127.0.0.1:8000, 127.0.0.1:8001, m.example) (nor in [gutenberg] allowed_hosts)"
    )


def test_throttle_spaces_requests_to_one_host(tmp_path: Path) -> None:
    throttle = gb.HostThrottle(f"test-{tmp_path.name}", delay=0.3)
    throttle.wait()
    first = float(Path(throttle.path).read_text())
    throttle.wait()
    second = float(Path(throttle.path).read_text())
    Path(throttle.path).unlink()
    assert second - first >= 0.3


# --- catalogue records ----------------------------------------------------------------------------


def test_catalogue_record_with_several_languages_or_none() -> None:
    def value(code: str) -> str:
        described = f'<rdf:Description rdf:nodeID="n"><rdf:value>{code}</rdf:value></rdf:Description>'
        return f"<dcterms:language>{described}</dcterms:language>"

    assert gb.catalog_languages(f"<x>{value('fr')}\n{value('en')}</x>".encode()) == ["fr", "en"]
    assert gb.catalog_languages(b"<rdf:RDF><dcterms:title>No language</dcterms:title></rdf:RDF>") == []
    assert (
        gb.catalog_languages(b"<dcterms:language><rdf:value>not a code</rdf:value></dcterms:language>") == []
    )
    assert textrules.stopword_language("fr, en") == "french"
