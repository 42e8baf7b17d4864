"""The report's statistics (Zipf and Heaps fits) and its HTML, without Spark or a browser."""

from __future__ import annotations

import base64
import html.parser
import math
from collections import Counter

import numpy as np
import pytest

from jobs import textrules
from pipeline import htmlreport, report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

LITERAL_CORPUS = [
    "the cat sat on the mat and the dog sat on the log",
    "a cat and a dog and a bird met the cat on a mat",
    "the bird sang and the cat slept and the dog barked at the bird",
]


def test_power_law_fit_recovers_an_exact_power_law() -> None:
    xs = [1, 2, 3, 5, 8, 13, 21]
    fit = report.fit_power_law(xs, [5.0 * x**-1.2 for x in xs])
    assert fit is not None
    assert fit.exponent == pytest.approx(-1.2, rel=1e-12)
    assert fit.constant == pytest.approx(5.0, rel=1e-12)
    assert fit.r_squared == pytest.approx(1.0, rel=1e-12)
    assert fit.points == 7


def test_power_law_fit_needs_two_distinct_x() -> None:
    assert report.fit_power_law([], []) is None
    assert report.fit_power_law([4], [2]) is None
    assert report.fit_power_law([3, 3], [1, 2]) is None
    with pytest.raises(ValueError, match="2 x values but 1 y values"):
        report.fit_power_law([1, 2], [1])


def test_zipf_exponent_of_a_literal_corpus_matches_numpy() -> None:
    counts = sorted(textrules.count_words(LITERAL_CORPUS).values(), reverse=True)
    assert counts == [9, 5, 4, 4, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1]  # the, and, a, cat, ... (counted by hand)
    slope, intercept = np.polyfit(np.log(np.arange(1, len(counts) + 1)), np.log(counts), 1)
    fit = report.zipf_fit(counts)
    assert fit is not None
    assert fit.points == len(counts) == 15
    assert fit.exponent == pytest.approx(slope, rel=1e-9)
    assert fit.constant == pytest.approx(math.exp(intercept), rel=1e-9)
    residual = np.log(counts) - (intercept + slope * np.log(np.arange(1, len(counts) + 1)))
    total = np.log(counts) - np.mean(np.log(counts))
    assert fit.r_squared == pytest.approx(1 - residual @ residual / (total @ total), rel=1e-9)


def test_zipf_fit_stops_at_the_max_rank() -> None:
    counts = [10_000 // r for r in range(1, 1501)]
    fit = report.zipf_fit(counts)
    assert fit is not None and fit.points == report.ZIPF_MAX_RANK == 1000
    head = np.array(counts[:1000], dtype=float)
    slope, _ = np.polyfit(np.log(np.arange(1, 1001)), np.log(head), 1)
    assert fit.exponent == pytest.approx(slope, rel=1e-9)


def test_heaps_fit_of_literal_growth_points_matches_numpy() -> None:
    tokens = [w for text in LITERAL_CORPUS for w in textrules.words(text)]
    points = [(t, len(set(tokens[:t]))) for t in range(5, len(tokens) + 1, 5)]
    assert points == [(5, 4), (10, 7), (15, 9), (20, 9), (25, 11), (30, 12), (35, 13), (40, 15)]
    slope, intercept = np.polyfit(np.log([n for n, _ in points]), np.log([v for _, v in points]), 1)
    fit = report.heaps_fit([(0, 0), *points])  # a zero point cannot be on log axes: left out
    assert fit is not None and fit.points == len(points)
    assert fit.exponent == pytest.approx(slope, rel=1e-9)
    assert fit.constant == pytest.approx(math.exp(intercept), rel=1e-9)


def test_charts_are_pngs() -> None:
    counts = [10, 5, 5, 4, 3, 2, 1]
    zipf = report.zipf_fit(counts)
    heaps = report.heaps_fit([(10, 8), (20, 13), (40, 20)])
    for png in (
        report.chart_png([(1, "the", 10), (2, "cat", 5)], "title"),
        report.zipf_png(counts, zipf),
        report.heaps_png([(10, 8), (20, 13), (40, 20)], heaps),
        report.zipf_png([], None),
    ):
        assert png[:8] == PNG_SIGNATURE


class _Collect(html.parser.HTMLParser):
    """Tables (id -> rows of cell texts), images (id -> src) and tags of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: dict[str, str] = {}
        self.tags: Counter[str] = Counter()
        self.ids: dict[str, str] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._id_text: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags[tag] += 1
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table or ""] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images[a.get("id") or ""] = a.get("src") or ""
        if tag == "b" and a.get("id"):
            self._id_text = a["id"]
            self.ids[a["id"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "b":
            self._id_text = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._id_text is not None:
            self.ids[self._id_text] += data


def literal_payload() -> dict:
    counts = sorted(textrules.count_words(LITERAL_CORPUS).items(), key=lambda wc: (-wc[1], wc[0]))
    rows = report.rank_words(counts, frozenset({"the", "a", "and", "on", "at"}), 3)
    zipf = report.zipf_fit([c for _, c in counts])
    heaps = report.heaps_fit([(10, 7), (20, 12), (41, 15)])
    book = {
        "rank": 1,
        "book_id": 7,
        "title": "Cats <&> Dogs",
        "author": "Anon",
        "language": "English",
        "mirror": "https://mirror.example/gutenberg",
    }
    return {
        "engine": "spark",
        "date": "2026-11-20",
        "period": "yesterday",
        "n_books": 1,
        "n_words": 3,
        "stopwords": "english",
        "tokens": 41,
        "distinct_words": 15,
        "books": [book],
        "skipped": [
            {"rank": 2, "book_id": 8, "title": "Gone", "author": "X", "downloads": 3, "reason": "binary"}
        ],
        "words": [{"rank": r, "word": w, "count": c} for r, w, c in rows],
        "zipf": zipf.to_json() if zipf else None,
        "heaps": heaps.to_json() if heaps else None,
        "book_stats": [
            {
                **book,
                "stopword_language": "english",
                "tokens": 41,
                "distinct_words": 15,
                "hapax_words": 6,
                "top": [{"word": "cat", "count": 4}, {"word": "bird", "count": 3}],
                "distinctive": [{"word": "cat", "count": 4, "tfidf": 0.125}],
            }
        ],
        "outputs": {"html": "/data/top.html"},
    }


def test_html_report_has_the_tables_and_embedded_charts() -> None:
    payload = literal_payload()
    zipf = report.zipf_fit([10, 5, 5, 4])
    charts = {
        "top_words": report.chart_png([(1, "cat", 5)], "t"),
        "zipf": report.zipf_png([10, 5, 5, 4], zipf),
        "heaps": report.heaps_png([(10, 7), (20, 12)], None),
    }
    timings = [
        {"stage": "WordCountSpark", "tasks": 1, "seconds": 12.34, "finished": "2026-11-20T10:00:00+00:00"}
    ]
    page = htmlreport.render(payload, charts, timings)
    parsed = _Collect()
    parsed.feed(page)

    assert parsed.tables["top-words"] == [
        ["rank", "word", "count", "per 1,000 tokens"],
        ["1", "cat", "4", "97.56"],
        ["2", "bird", "3", "73.17"],
        ["3", "dog", "3", "73.17"],
    ]
    assert parsed.tables["books"][1][:6] == ["1", "7", "Cats <&> Dogs", "Anon", "English", "english"]
    assert parsed.tables["books"][0][-1] == "from"
    assert parsed.tables["books"][1][6:] == ["41", "15", "6", "0.366", "mirror.example/gutenberg"]
    assert parsed.tables["book-words"][1] == ["Cats <&> Dogs (7)", "cat 4, bird 3", "cat 0.1250"]
    assert parsed.tables["skipped"][1] == ["2", "8", "Gone", "binary"]
    assert parsed.tables["timings"][1] == ["WordCountSpark", "1", "12.3", "2026-11-20T10:00:00+00:00"]
    assert parsed.ids["zipf-exponent"] == f"{-payload['zipf']['exponent']:.3f}"
    assert parsed.ids["fact-tokens"] == "41"
    assert parsed.ids["fact-distinct"] == "15"
    for ident in ("chart-top-words", "chart-zipf", "chart-heaps"):
        src = parsed.images[ident]
        assert src.startswith("data:image/png;base64,")
        assert (
            base64.b64decode(src.split(",", 1)[1]) == charts[ident.removeprefix("chart-").replace("-", "_")]
        )
    # Viewable offline and safe: no scripts, no external references, titles escaped.
    assert parsed.tags["script"] == 0 and parsed.tags["link"] == 0
    assert "http://" not in page and "https://" not in page
    assert "Cats &lt;&amp;&gt; Dogs" in page


def test_html_report_without_analysis_says_where_it_comes_from() -> None:
    payload = {**literal_payload(), "engine": "mrjob", "heaps": None, "book_stats": None}
    charts = {"top_words": report.chart_png([], "t"), "zipf": report.zipf_png([], None)}
    page = htmlreport.render(payload, charts, [])
    parsed = _Collect()
    parsed.feed(page)
    assert parsed.tables["books"] == [
        ["list rank", "book", "title", "author", "language", "from"],
        ["1", "7", "Cats <&> Dogs", "Anon", "English", "mirror.example/gutenberg"],
    ]
    assert "chart-heaps" not in parsed.images
    assert "per-book analysis" in page
    assert parsed.ids["heaps-beta"] == "–"
