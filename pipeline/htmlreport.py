"""The self-contained HTML report of one run: tables, charts as data: URIs, inline CSS, no script.

Everything a browser needs is inside the file, so it opens from disk, from an e-mail attachment or
from HDFS without a network. Element ids (`top-words`, `chart-zipf`, `books`, ...) are stable: the
browser tests look them up.
"""

from __future__ import annotations

import base64
import datetime
import urllib.parse
from collections.abc import Sequence
from html import escape
from typing import Any

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2733; margin: 0;
       background: #f4f6f8; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 32px 0 8px;
     border-bottom: 2px solid #3b6ea5; padding-bottom: 4px; }
.sub { color: #5b6773; margin: 0 0 16px; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; }
.fact { background: #eef3f8; border-radius: 6px; padding: 8px 12px; }
.fact b { display: block; font-size: 20px; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; border-bottom: 1px solid #dde3e9; text-align: left; vertical-align: top; }
th { background: #eef3f8; } td.n { text-align: right; }
.cols { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
img { max-width: 100%; border: 1px solid #dde3e9; }
.words { font-size: 13px; } .note { color: #5b6773; font-size: 13px; }
"""


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _num(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if digits else f"{value:,}"


def _fact(label: str, value: str, ident: str = "") -> str:
    attr = f' id="{ident}"' if ident else ""
    return f'<div class="fact"><b{attr}>{escape(value)}</b>{escape(label)}</div>'


def _table(
    ident: str, header: Sequence[str], rows: Sequence[Sequence[Any]], numeric: set[int], css_class: str = ""
) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{escape(str(c))}</td>' if i in numeric else f"<td>{escape(str(c))}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    attrs = f' class="{css_class}"' if css_class else ""
    return f'<table id="{ident}"{attrs}><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _image(ident: str, png: bytes, alt: str) -> str:
    return f'<img id="{ident}" src="{data_uri(png)}" alt="{escape(alt)}">'


def render(payload: dict[str, Any], charts: dict[str, bytes], timings: Sequence[dict[str, Any]]) -> str:
    """The HTML page of a top-words payload (see TopWords.run) with its PNG charts embedded.

    `charts` has "top_words", "zipf" and, with a per-book analysis, "heaps".
    """
    title = f"Top words in the {payload['n_books']} most downloaded Gutenberg books"
    zipf, heaps = payload.get("zipf"), payload.get("heaps")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{escape(payload["period"])} list of {escape(payload["date"])} · engine '
        f"{escape(payload['engine'])} · stop words {escape(payload['stopwords'])}</p>",
        '<div class="facts">',
        _fact("books used", _num(len(payload["books"])), "fact-books"),
        _fact("books skipped", _num(len(payload["skipped"])), "fact-skipped"),
        _fact("tokens", _num(payload["tokens"]), "fact-tokens"),
        _fact("distinct words", _num(payload["distinct_words"]), "fact-distinct"),
        _fact("Zipf exponent s", f"{-zipf['exponent']:.3f}" if zipf else "–", "zipf-exponent"),
        _fact("Heaps exponent β", f"{heaps['exponent']:.3f}" if heaps else "–", "heaps-beta"),
        "</div>",
        "<h2>Top words</h2>",
        '<div class="cols">',
        _table(
            "top-words",
            ["rank", "word", "count", "per 1,000 tokens"],
            [
                (w["rank"], w["word"], _num(w["count"]), f"{1000 * w['count'] / payload['tokens']:.2f}")
                for w in payload["words"]
            ],
            {0, 2, 3},
        ),
        _image("chart-top-words", charts["top_words"], "bar chart of the top words"),
        "</div>",
        "<h2>Rank and frequency (Zipf's law)</h2>",
        _image("chart-zipf", charts["zipf"], "rank-frequency plot on log-log axes"),
    ]
    if zipf:
        parts.append(
            f"<p>count ≈ C · rank<sup>−s</sup> with s = {-zipf['exponent']:.3f}, C = {zipf['constant']:,.0f}"
            f" (least squares on log-log axes over ranks 1–{zipf['points']:,}, R² = {zipf['r_squared']:.3f};"
            " every word, stop words included).</p>"
        )
    parts.append("<h2>Vocabulary growth (Heaps' law)</h2>")
    if heaps and "heaps" in charts:
        parts += [
            _image("chart-heaps", charts["heaps"], "distinct words against tokens read"),
            f"<p>distinct words ≈ K · tokens<sup>β</sup> with K = {heaps['constant']:.2f},"
            f" β = {heaps['exponent']:.3f} (least squares on log-log axes over {heaps['points']} points"
            f" read in rank order, R² = {heaps['r_squared']:.3f}).</p>",
        ]
    else:
        parts.append(
            '<p class="note">Vocabulary growth comes from the Spark engine\'s per-book analysis.</p>'
        )
    parts += _books_section(payload)
    parts.append("<h2>Books skipped</h2>")
    if payload["skipped"]:
        parts.append(
            _table(
                "skipped",
                ["list rank", "book", "title", "reason"],
                [
                    (b["rank"], b["book_id"], b["title"], b.get("reason", "not found (404) at any address"))
                    for b in payload["skipped"]
                ],
                {0, 1},
            )
        )
    else:
        parts.append('<p id="skipped">None: every book asked for was used.</p>')
    parts.append("<h2>This run</h2>")
    if timings:
        parts.append(
            _table(
                "timings",
                ["stage", "tasks", "seconds", "finished (UTC)"],
                [(t["stage"], t["tasks"], f"{t['seconds']:.1f}", t["finished"]) for t in timings],
                {1, 2},
            )
        )
    parts.append(
        _table("outputs", ["output", "where"], sorted(payload.get("outputs", {}).items()), set())
        if payload.get("outputs")
        else ""
    )
    generated = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    parts.append(f'<p class="note">Generated {generated} by gutenberg-wordcount.</p></main></body></html>')
    return "\n".join(parts) + "\n"


def _source(book: dict[str, Any]) -> str:
    """The mirror that served a book, as host and path (a link-free report names no scheme)."""
    parts = urllib.parse.urlsplit(book.get("mirror", ""))
    return parts.netloc + parts.path


def _books_section(payload: dict[str, Any]) -> list[str]:
    stats = payload.get("book_stats")
    parts = ["<h2>Books</h2>"]
    if not stats:
        rows = [
            (b["rank"], b["book_id"], b["title"], b["author"], b["language"], _source(b))
            for b in payload["books"]
        ]
        parts += [
            _table("books", ["list rank", "book", "title", "author", "language", "from"], rows, {0, 1}),
            '<p class="note">Per-book statistics, top words and distinctive words come from the Spark '
            "engine (TopWordsSpark).</p>",
        ]
        return parts
    rows = [
        (
            b["rank"],
            b["book_id"],
            b["title"],
            b["author"],
            b["language"],
            b["stopword_language"] or "none",
            _num(b["tokens"]),
            _num(b["distinct_words"]),
            _num(b["hapax_words"]),
            f"{b['distinct_words'] / b['tokens']:.3f}" if b["tokens"] else "–",
            _source(b),
        )
        for b in stats
    ]
    header = ["list rank", "book", "title", "author", "language", "stop words", "tokens", "distinct"]
    header += ["once only", "types/tokens", "from"]
    parts.append(_table("books", header, rows, {0, 1, 6, 7, 8, 9}))
    parts.append(
        "<h2>Top and most distinctive words per book</h2>"
        "<p class=\"note\">Top: most frequent words of the book without its language's stop words (Spark's "
        "lists). Distinctive: highest TF-IDF, tf = count / tokens of the book, idf = ln(books / books "
        "containing the word).</p>"
    )
    word_rows = [
        (
            f"{b['title']} ({b['book_id']})",
            ", ".join(f"{w['word']} {w['count']:,}" for w in b["top"]),
            ", ".join(f"{w['word']} {w['tfidf']:.4f}" for w in b["distinctive"]),
        )
        for b in stats
    ]
    header = ["book", "top words", "most distinctive (TF-IDF)"]
    parts.append(_table("book-words", header, word_rows, set(), css_class="words"))
    return parts
