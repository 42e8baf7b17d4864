"""TopWordsTrend over the top lists a daily cron collected, through the real `luigi` executable."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from jobs import textrules
from tests.support import REPO, MirrorServer, Reply, mirror_body, mirror_dir, offline_args, run_luigi

TOP_PATH = "/browse/scores/top"
TITLES = {
    43: "The Strange Case of Dr. Jekyll and Mr. Hyde",
    844: "The Importance of Being Earnest: A Trivial Comedy for Serious People",
    1080: "A Modest Proposal",
    1952: "The Yellow Wallpaper",
}
# What Gutenberg's "yesterday" list held when the cron ran each day: each day shares one book with the
# day before, and the last day shares none with the first.
DAYS = {"2026-11-18": [1952, 1080], "2026-11-19": [1952, 43], "2026-11-20": [43, 844]}
INTERVAL = "2026-11-18-2026-11-21"  # Luigi's date intervals exclude the end day
TREND = Path("trends", "spark", "yesterday", INTERVAL, "books-2", "top-10_stop-english")


def day_page(book_ids: list[int]) -> bytes:
    """The mirror's top page with its yesterday list cut down to `book_ids`, in that order."""
    page = (mirror_dir() / TOP_PATH.lstrip("/")).read_text(encoding="utf-8")
    head, rest = page.split('id="books-last1"', 1)
    section, tail = rest.split("</ol>", 1)
    items = {
        int(book_id): line for line, book_id in re.findall(r'(<li><a href="/ebooks/(\d+)">.*</li>)', section)
    }
    listed = "".join(items[i] + "\n" for i in book_ids)
    section = section.split("<ol>", 1)[0] + "<ol>\n" + listed
    return (head + 'id="books-last1"' + section + "</ol>" + tail).encode("utf-8")


def day_report(book_ids: list[int], stopwords: frozenset[str]) -> tuple[int, list[tuple[str, int]]]:
    """(tokens, top 10 (word, count)) of one day's corpus, by the pure-Python text rules."""
    counts = textrules.count_words([mirror_body(i) for i in book_ids])
    ranked = sorted(((w, c) for w, c in counts.items() if w not in stopwords), key=lambda wc: (-wc[1], wc[0]))
    return sum(counts.values()), ranked[:10]


def expected_words(reports: dict[str, tuple[int, list[tuple[str, int]]]]) -> list[dict[str, Any]]:
    dates = list(reports)
    ranks = {d: {w: r for r, (w, _) in enumerate(top, start=1)} for d, (_, top) in reports.items()}
    counts = {d: dict(top) for d, (_, top) in reports.items()}
    union = {w for d in dates for w in ranks[d]}

    def order(word: str) -> tuple[float, int, str]:
        best = min(ranks[d][word] for d in dates if word in ranks[d])
        return (ranks[dates[-1]].get(word, math.inf), best, word)

    return [
        {
            "word": w,
            "ranks": {d: ranks[d].get(w) for d in dates},
            "counts": {d: counts[d].get(w) for d in dates},
            "per_million": {
                d: round(counts[d][w] * 1e6 / reports[d][0], 2) if w in counts[d] else None for d in dates
            },
        }
        for w in sorted(union, key=order)
    ]


def table_rows(stdout: str) -> list[list[str]]:
    """The rows of the printed rank table, split on blanks."""
    return [line.split() for line in stdout.splitlines()]


@pytest.mark.spark
def test_trend_over_the_lists_a_daily_cron_collected(
    mirror: MirrorServer, tmp_path: Path, spark_submit_log: tuple[Path, Path]
) -> None:
    wrapper, log = spark_submit_log
    root = tmp_path / "data"
    for date, ids in DAYS.items():
        mirror.overrides[TOP_PATH] = Reply(200, day_page(ids))
        cron = run_luigi(
            "TopBooks", *offline_args(mirror.url, root, n_books=2, date=date), cwd=REPO, timeout=60
        )
        assert cron.returncode == 0, cron.stderr[-3000:]
        listed = json.loads((root / "top_books" / "yesterday" / f"{date}.json").read_text(encoding="utf-8"))
        assert [b["book_id"] for b in listed["books"]] == ids
    assert mirror.requests == [TOP_PATH] * 3

    # Gutenberg's list has moved on by the time the trend runs: the cron's lists must be the ones used.
    mirror.overrides[TOP_PATH] = Reply(200, day_page([2701, 98]))
    mirror.requests.clear()
    args = [
        "TopWordsTrend",
        "--date-interval",
        INTERVAL,
        "--n-words",
        "10",
        *offline_args(mirror.url, root, n_books=2, date=None),
        "--spark-spark-submit",
        str(wrapper),
    ]
    first = run_luigi(*args, cwd=REPO, timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    assert len(log.read_text().splitlines()) == 3  # one word count per day
    assert sorted(mirror.requests) == sorted(f"/cache/epub/{i}/pg{i}.txt" for i in TITLES)  # each book once

    stopwords = textrules.load_stopwords("english")
    reports = {date: day_report(ids, stopwords) for date, ids in DAYS.items()}
    dates = list(DAYS)
    tops = {d: [w for w, _ in top] for d, (_, top) in reports.items()}
    # The same lists written out, to read the test by: what the computation above must give.
    assert tops == {
        "2026-11-18": ["one", "john", "said", "get", "little", "see", "children", "like", "good", "pattern"],
        "2026-11-19": ["said", "utterson", "mr", "one", "hyde", "jekyll", "like", "man", "see", "well"],
        "2026-11-20": [
            "jack",
            "algernon",
            "cecily",
            "mr",
            "one",
            "gwendolen",
            "said",
            "lady",
            "miss",
            "utterson",
        ],
    }
    words = expected_words(reports)

    payload = json.loads((root / TREND.with_suffix(".json")).read_text(encoding="utf-8"))
    assert {
        k: payload[k] for k in ("engine", "interval", "dates", "period", "n_books", "n_words", "stopwords")
    } == {
        "engine": "spark",
        "interval": INTERVAL,
        "dates": dates,
        "period": "yesterday",
        "n_books": 2,
        "n_words": 10,
        "stopwords": "english",
    }
    assert payload["days"] == [
        {
            "date": d,
            "tokens": reports[d][0],
            "books": [{"book_id": i, "title": TITLES[i]} for i in ids],
            "top": tops[d],
        }
        for d, ids in DAYS.items()
    ]
    assert payload["words"] == words
    said = next(w for w in payload["words"] if w["word"] == "said")
    assert said["ranks"] == {"2026-11-18": 3, "2026-11-19": 1, "2026-11-20": 7}
    entered = ["jack", "algernon", "cecily", "mr", "gwendolen", "lady", "miss", "utterson"]
    left = ["john", "get", "little", "see", "children", "like", "good", "pattern"]
    assert payload["entered"] == entered
    assert payload["left"] == left
    assert payload["books_added"] == [{"book_id": i, "title": TITLES[i]} for i in (43, 844)]
    assert payload["books_removed"] == [{"book_id": i, "title": TITLES[i]} for i in (1952, 1080)]

    csv_lines = [",".join(["word", *dates])]
    csv_lines += [
        ",".join([w["word"], *("" if r is None else str(r) for r in w["ranks"].values())]) for w in words
    ]
    assert (root / TREND.with_suffix(".csv")).read_text(encoding="utf-8") == "\n".join(csv_lines) + "\n"
    assert (root / TREND.with_suffix(".png")).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    table = [["word", *dates]] + [
        [w["word"], *("-" if r is None else str(r) for r in w["ranks"].values())] for w in words
    ]
    facts = [
        f"entered: {', '.join(entered)}",
        f"left: {', '.join(left)}",
        f"books added: 43 ({TITLES[43]}), 844 ({TITLES[844]})",
        f"books removed: 1952 ({TITLES[1952]}), 1080 ({TITLES[1080]})",
        f"json: {root / TREND.with_suffix('.json')}",
    ]
    rows = table_rows(first.stdout)
    start = rows.index(table[0])
    assert rows[start + 2 : start + 2 + len(words)] == table[1:]
    assert all(line in first.stdout.splitlines() for line in facts), first.stdout[-3000:]

    mirror.requests.clear()
    second = run_luigi(*args, cwd=REPO, timeout=60)
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(log.read_text().splitlines()) == 3
    assert "Running command" not in second.stderr
    assert mirror.requests == []
    assert "1 complete ones were encountered" in second.stderr
    rows = table_rows(second.stdout)
    start = rows.index(table[0])
    assert rows[start + 2 : start + 2 + len(words)] == table[1:]
    assert all(line in second.stdout.splitlines() for line in facts), second.stdout[-3000:]


@pytest.mark.parametrize(
    ("interval", "message"),
    [
        ("2026-11-20-2026-11-20", "2026-11-20-2026-11-20 has no day: the end day is excluded"),
        ("2026-11-31", "'2026-11-31' is not a date interval"),
    ],
)
def test_bad_interval_is_one_line_and_runs_nothing(tmp_path: Path, interval: str, message: str) -> None:
    result = run_luigi(
        "TopWordsTrend",
        "--date-interval",
        interval,
        *offline_args("http://127.0.0.1:9", tmp_path / "data", date=None),
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 40
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and errors[0].startswith(f"ERROR: --date-interval: {message}"), result.stderr
    assert not (tmp_path / "data").exists()
