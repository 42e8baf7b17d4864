"""A book's language: its header's `Language:` line, else its catalogue record (RDF), else unknown: on the
mirror's 23 books and through the `luigi` command (records on literal XML: tests/unit/test_gutenberg.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobs import textrules
from pipeline import gutenberg as gb
from tests.support import REPO, MirrorServer, Reply, mirror_book_ids, mirror_dir, offline_args, run_luigi

HEADER_CODES = {"English": "en", "French": "fr", "German": "de", "Spanish": "es"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One case per mirror book, listed at collection (never at import). Without a mirror, one case that
    fails with mirror_dir()'s message, so the suite still collects."""
    if metafunc.function is test_catalogue_records_of_the_mirror_agree_with_the_headers:
        try:
            book_ids = mirror_book_ids()
        except pytest.fail.Exception:
            book_ids = [pytest.param(0, id="no-mirror")]
        metafunc.parametrize("book_id", book_ids)


def test_catalogue_records_of_the_mirror_agree_with_the_headers(book_id: int) -> None:
    folder = mirror_dir() / "cache" / "epub" / str(book_id)
    header = textrules.read_book((folder / f"pg{book_id}.txt").read_bytes()).language
    assert gb.catalog_languages((folder / f"pg{book_id}.rdf").read_bytes()) == [HEADER_CODES[header]]


def book(title: str, language_line: str, body: str) -> bytes:
    return (
        f"The Project Gutenberg eBook of {title}\r\n\r\nTitle: {title}\r\n{language_line}\r\n"
        f"*** START OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***\r\n{body}\r\n"
        f"*** END OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***\r\n"
    ).encode()


BOOKS = {
    900101: book("Un Livre", "", "Le chat et le chien de la maison."),  # no Language line: the record says fr
    900102: book("Another", "", "A cat and a dog."),  # no Language line and no record: unknown
    900103: book("Ein Buch", "Language: German", "Die Katze und der Hund."),  # the header is enough
}
RECORD_900101 = (
    b'<?xml version="1.0"?>\n<rdf:RDF><pgterms:ebook><dcterms:language>\n'
    b'<rdf:Description rdf:nodeID="N1"><rdf:value rdf:datatype="http://purl.org/dc/terms/RFC4646">fr'
    b"</rdf:value></rdf:Description>\n</dcterms:language></pgterms:ebook></rdf:RDF>\n"
)


def test_language_falls_back_to_the_catalogue_record(http_server: MirrorServer, tmp_path: Path) -> None:
    items = "".join(f'<li><a href="/ebooks/{i}">Book {i} by Someone (10)</a></li>\n' for i in BOOKS)
    top = f'<html><body><h2 id="books-last1">Top</h2>\n<ol>\n{items}</ol>\n</body></html>\n'
    http_server.overrides["/browse/scores/top"] = Reply(200, top.encode())
    for i, data in BOOKS.items():
        http_server.overrides[f"/cache/epub/{i}/pg{i}.txt"] = Reply(200, data)
    http_server.overrides["/cache/epub/900101/pg900101.rdf"] = Reply(200, RECORD_900101)
    http_server.overrides["/cache/epub/900102/pg900102.rdf"] = Reply(404, b"not found")
    root = tmp_path / "data"
    args = ["CorpusParquet", *offline_args(http_server.url, root, 3)]
    result = run_luigi(*args, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]

    corpus = next(root.glob("corpus/yesterday/*/books-3"))
    table = pq.read_table(corpus, columns=["book_id", "language"]).to_pylist()
    assert {r["book_id"]: r["language"] for r in table} == {900101: "fr", 900102: "unknown", 900103: "German"}
    records = sorted(r for r in http_server.requests if r.endswith(".rdf"))
    assert records == ["/cache/epub/900101/pg900101.rdf", "/cache/epub/900102/pg900102.rdf"]
    assert json.loads((root / "raw" / "900102" / "catalog.json").read_text())["languages"] == []
    assert "book 900102: no catalogue record at" in result.stderr

    http_server.requests.clear()
    again = run_luigi(*args, cwd=REPO)
    assert again.returncode == 0, again.stderr[-3000:]
    assert http_server.requests == []
