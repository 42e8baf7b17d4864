"""A book's language: its header's `Language:` line, else its catalogue record (RDF), else unknown."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobs import textrules
from pipeline import gutenberg as gb
from tests.conftest import MIRROR, MIRROR_BOOK_IDS, REPO, MirrorServer, Reply, offline_args, run_luigi

HEADER_CODES = {"English": "en", "French": "fr", "German": "de", "Spanish": "es"}


@pytest.mark.parametrize("book_id", MIRROR_BOOK_IDS)
def test_catalogue_records_of_the_mirror_agree_with_the_headers(book_id: int) -> None:
    folder = MIRROR / "cache" / "epub" / str(book_id)
    header = textrules.read_book((folder / f"pg{book_id}.txt").read_bytes()).language
    assert gb.catalog_languages((folder / f"pg{book_id}.rdf").read_bytes()) == [HEADER_CODES[header]]


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
