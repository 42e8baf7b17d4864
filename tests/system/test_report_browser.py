"""The HTML report of a real run, opened from disk in headless Chromium, against independent numbers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from jobs import textrules
from pipeline import report
from tests.support import REPO, MirrorServer, Reply, mirror_body, mirror_dir, offline_args, run_luigi
from tests.system.browser import Chromium

pytestmark = pytest.mark.spark

ARTIFACTS = REPO / "data" / "test-artifacts"
# English, German, French and English again: each book's language picks its stop-word list.
BOOKS = {
    1952: ("The Yellow Wallpaper", "English"),
    2229: ("Faust", "German"),
    17989: ("Monte-Cristo", "French"),
}
BOOKS[46] = ("A Christmas Carol", "English")
GROWTH_POINTS = 100


def top_page(ids: list[int]) -> bytes:
    items = "".join(
        f'<li><a href="/ebooks/{i}">{BOOKS[i][0]} by Someone ({1000 - n})</a></li>\n'
        for n, i in enumerate(ids)
    )
    return f'<html><body><h2 id="books-last1">Top</h2>\n<ol>\n{items}</ol>\n</body></html>\n'.encode()


def growth(ids: list[int]) -> list[tuple[int, int]]:
    """Distinct words after every ceil(T/100) tokens, reading the books in list order, and at T."""
    tokens = [w for i in ids for w in textrules.words(mirror_body(i))]
    step = math.ceil(len(tokens) / GROWTH_POINTS)
    marks = {*range(step, len(tokens), step), len(tokens)}
    seen: set[str] = set()
    points = []
    for t, word in enumerate(tokens, start=1):
        seen.add(word)
        if t in marks:
            points.append((t, len(seen)))
    return points


def loglog_slope(xs: list[float], ys: list[float]) -> float:
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The main command on the four books; the report's paths and the printed summary."""
    root = tmp_path_factory.mktemp("report") / "data"
    ids = list(BOOKS)
    with MirrorServer(mirror_dir()) as server:
        server.overrides["/browse/scores/top"] = Reply(200, top_page(ids))
        result = run_luigi(
            "TopWordsSpark", "--n-words", "20", *offline_args(server.url, root, len(ids)), cwd=REPO
        )
    assert result.returncode == 0, result.stderr[-3000:]
    prefix = next(root.glob("top_words/spark/yesterday/*/books-4/top-20_stop-english.html")).with_suffix("")
    return {
        "ids": ids,
        "html": prefix.with_suffix(".html"),
        "json": prefix.with_suffix(".json"),
        "result": result,
    }


def test_report_numbers_match_independent_computations(run: dict) -> None:
    payload = json.loads(run["json"].read_text(encoding="utf-8"))
    counts = textrules.count_words(mirror_body(i) for i in run["ids"])
    by_count = sorted(counts.values(), reverse=True)
    assert payload["tokens"] == sum(by_count)
    assert payload["distinct_words"] == len(counts)

    head = by_count[: report.ZIPF_MAX_RANK]
    assert payload["zipf"]["points"] == report.ZIPF_MAX_RANK
    assert payload["zipf"]["exponent"] == pytest.approx(loglog_slope(range(1, len(head) + 1), head), rel=1e-9)

    points = growth(run["ids"])
    assert [tuple(p) for p in payload["growth"]] == points
    assert payload["heaps"]["exponent"] == pytest.approx(
        loglog_slope([n for n, _ in points], [v for _, v in points]), rel=1e-9
    )

    stats = {b["book_id"]: b for b in payload["book_stats"]}
    assert [b["book_id"] for b in payload["book_stats"]] == run["ids"]
    for i in run["ids"]:
        book = textrules.count_words([mirror_body(i)])
        assert (stats[i]["tokens"], stats[i]["distinct_words"]) == (sum(book.values()), len(book))
        assert stats[i]["language"] == BOOKS[i][1]
    assert stats[2229]["stopword_language"] == "german"
    assert stats[17989]["stopword_language"] == "french"
    # Without its language's stop words a book's top words are its own: no der/und, no de/la.
    assert not {"der", "die", "und"} & {w["word"] for w in stats[2229]["top"]}
    assert not {"de", "la", "le", "et"} & {w["word"] for w in stats[17989]["top"]}
    german = textrules.count_words([mirror_body(2229)])
    assert german["der"] > stats[2229]["top"][0]["count"]
    printed = run["result"].stdout
    assert f"Zipf exponent s {-payload['zipf']['exponent']:.3f}" in printed
    assert "WordCountSpark" in printed and "DownloadBook" in printed  # the wall time per stage


def test_report_renders_offline_in_chromium(run: dict) -> None:
    payload = json.loads(run["json"].read_text(encoding="utf-8"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with Chromium() as browser:
        browser.set_viewport(1280, 900)
        browser.send("Network.enable")
        browser.open(run["html"].as_uri())
        rows = browser.evaluate(
            "[...document.querySelectorAll('#top-words tbody tr')]"
            ".map(r => [...r.cells].map(c => c.innerText))"
        )
        assert [r[:3] for r in rows] == [
            [str(w["rank"]), w["word"], f"{w['count']:,}"] for w in payload["words"]
        ]
        assert len(rows) == 20
        images = browser.evaluate(
            "Object.fromEntries([...document.images].map(i => [i.id, "
            "[i.complete, i.naturalWidth, i.naturalHeight, Math.round(i.getBoundingClientRect().width)]]))"
        )
        assert set(images) == {"chart-top-words", "chart-zipf", "chart-heaps"}
        for ident, (complete, width, height, shown) in images.items():
            assert complete and width > 300 and height > 200 and shown > 0, ident
        assert browser.evaluate("document.getElementById('zipf-exponent').innerText") == (
            f"{-payload['zipf']['exponent']:.3f}"
        )
        assert browser.evaluate("document.getElementById('heaps-beta').innerText") == (
            f"{payload['heaps']['exponent']:.3f}"
        )
        books = browser.evaluate(
            "[...document.querySelectorAll('#books tbody tr')]"
            ".map(r => [r.cells[1].innerText, r.cells[5].innerText])"
        )
        assert books == [["1952", "english"], ["2229", "german"], ["17989", "french"], ["46", "english"]]
        assert browser.evaluate("document.querySelectorAll('#book-words tbody tr').length") == 4
        requests = [e["request"]["url"] for e in browser.events("Network.requestWillBeSent")]
        assert requests and all(u.startswith(("file:", "data:")) for u in requests), requests
        shot = browser.screenshot(ARTIFACTS / "report.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mapreduce_report_has_no_per_book_sections(tmp_path: Path) -> None:
    """The HTML of an engine without the per-book analysis still renders its tables and charts."""
    payload = {
        "engine": "mrjob",
        "date": "2026-11-20",
        "period": "yesterday",
        "n_books": 1,
        "stopwords": "none",
        "tokens": 3,
        "distinct_words": 2,
        "books": [{"rank": 1, "book_id": 5, "title": "T", "author": "A", "language": "English"}],
        "skipped": [],
        "words": [{"rank": 1, "word": "a", "count": 2}, {"rank": 2, "word": "b", "count": 1}],
        "zipf": report.zipf_fit([2, 1]).to_json(),
        "heaps": None,
        "book_stats": None,
    }
    from pipeline import htmlreport

    page = tmp_path / "r.html"
    charts = {
        "top_words": report.chart_png([(1, "a", 2), (2, "b", 1)], "t"),
        "zipf": report.zipf_png([2, 1], None),
    }
    page.write_text(htmlreport.render(payload, charts, []), encoding="utf-8")
    with Chromium() as browser:
        browser.open(page.as_uri())
        assert browser.evaluate("[...document.images].map(i => i.id + ':' + (i.naturalWidth > 0))") == [
            "chart-top-words:true",
            "chart-zipf:true",
        ]
        assert browser.evaluate("document.querySelectorAll('#books tbody tr').length") == 1
