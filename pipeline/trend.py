"""TopWordsTrend: how the top words of the daily top-books corpora move over a date interval."""

from __future__ import annotations

import datetime
import math
from typing import Any

import luigi

from pipeline import formats, params, report, storage
from pipeline.spark import TopWordsSpark

# Lines on the bump chart: the last day's top CHART_TOP words, plus the words that left the top list.
CHART_TOP = 10


class TopWordsTrend(luigi.Task):
    """The top words of each day's corpus over `date_interval`, side by side: JSON, CSV and a bump chart
    under trends/spark/.

    Each day is TopWordsSpark(date=day): that day's top-books list, its corpus and its word count; days
    already computed are not redone. An interval `2026-11-18-2026-11-21` is the days 18, 19 and 20: as
    everywhere in Luigi, the end day is excluded (`2026-W47` is a whole ISO week).

    Gutenberg only serves the current top list: TopBooks(date) files whatever list Gutenberg serves when
    it runs under `date`. A trend over past days therefore uses the lists a daily cron run
    (`luigi --module pipeline TopBooks --date $(date +%F)`, or any task that needs it) collected on those
    days; a day without one gets the list of the day the trend runs, which is not that day's.
    """

    date_interval = params.DateIntervalParameter(
        description="days to compare (2026-11-18-2026-11-21, end excluded)"
    )
    period = params.period()
    n_books = params.count(10, 1, "how many of the top books to use each day")
    n_words = params.count(10, 1, "how many top words of each day to follow")
    stopwords = params.stopwords()

    engine = "spark"

    def dates(self) -> list[datetime.date]:
        return list(self.date_interval)

    def top_words_task(self, date: datetime.date) -> luigi.Task:
        return TopWordsSpark(
            date=date,
            period=self.period,
            n_books=self.n_books,
            n_words=self.n_words,
            stopwords=self.stopwords,
        )

    def requires(self) -> list[luigi.Task]:
        return [self.top_words_task(d) for d in self.dates()]

    def output(self) -> dict[str, luigi.target.FileSystemTarget]:
        prefix = storage.trend_prefix(
            self.engine, str(self.date_interval), self.period, self.n_books, self.n_words, self.stopwords
        )
        return {
            "csv": storage.target(prefix + ".csv"),
            "json": storage.target(prefix + ".json"),
            "png": storage.target(prefix + ".png", binary=True),
        }

    def run(self) -> None:
        reports = []
        tasks = self.requires()
        for index, task in enumerate(tasks):
            self.set_status_message(f"Reading the top words of {task.date} ({index + 1}/{len(tasks)})")
            reports.append(formats.read_json(task.output()["json"]))
            # Reading is quick; writing the chart is most of the time left.
            self.set_progress_percentage(50 * (index + 1) // len(tasks))
        payload = self.trend(reports)
        outputs = self.output()
        self.set_status_message("Writing the trend: CSV, JSON and chart")
        write_trend_csv(outputs["csv"], payload)
        formats.write_json(outputs["json"], payload)
        self.set_progress_percentage(70)
        write_bump_chart(outputs["png"], payload, self.chart_title())
        self.set_progress_percentage(100)
        print(self.summary(payload), flush=True)

    def trend(self, reports: list[dict[str, Any]]) -> dict[str, Any]:
        """The JSON payload from the day reports (TopWords JSON), in date order."""
        dates = [r["date"] for r in reports]
        days = [
            {
                "date": r["date"],
                "tokens": r["tokens"],
                "books": [{"book_id": b["book_id"], "title": b["title"]} for b in r["books"]],
                "top": [w["word"] for w in sorted(r["words"], key=lambda w: w["rank"])],
            }
            for r in reports
        ]
        seen: dict[str, dict[str, Any]] = {}
        for r in reports:
            for entry in r["words"]:
                word = seen.setdefault(
                    entry["word"],
                    {
                        "word": entry["word"],
                        "ranks": dict.fromkeys(dates),
                        "counts": dict.fromkeys(dates),
                        "per_million": dict.fromkeys(dates),
                    },
                )
                word["ranks"][r["date"]] = entry["rank"]
                word["counts"][r["date"]] = entry["count"]
                word["per_million"][r["date"]] = round(entry["count"] * 1e6 / r["tokens"], 2)
        last = dates[-1]

        def order(word: dict[str, Any]) -> tuple[float, int, str]:
            ranks = [r for r in word["ranks"].values() if r is not None]
            on_last = word["ranks"][last]
            return (math.inf if on_last is None else on_last, min(ranks), word["word"])

        first_top, last_top = days[0]["top"], days[-1]["top"]
        first_ids = {b["book_id"] for b in days[0]["books"]}
        last_ids = {b["book_id"] for b in days[-1]["books"]}
        return {
            "engine": self.engine,
            "interval": str(self.date_interval),
            "dates": dates,
            "period": self.period,
            "n_books": self.n_books,
            "n_words": self.n_words,
            "stopwords": self.stopwords,
            "days": days,
            "words": sorted(seen.values(), key=order),
            "entered": [w for w in last_top if w not in set(first_top)],
            "left": [w for w in first_top if w not in set(last_top)],
            "books_added": [b for b in days[-1]["books"] if b["book_id"] not in first_ids],
            "books_removed": [b for b in days[0]["books"] if b["book_id"] not in last_ids],
        }

    def chart_title(self) -> str:
        dates = self.dates()
        return (
            f"Rank of the top {self.n_words} words in the {self.n_books} most downloaded Gutenberg books"
            f" ({self.period})\n{dates[0]} to {dates[-1]}"
        )

    def summary(self, payload: dict[str, Any]) -> str:
        """The rank table and the changes printed at the end of a run."""
        dates = payload["dates"]

        def books(entries: list[dict[str, Any]]) -> str:
            return ", ".join(f"{b['book_id']} ({b['title']})" for b in entries) or "none"

        lines = [
            "",
            f"Top {self.n_words} words ({self.engine}; stop words: {self.stopwords}) of the {self.period} "
            f"lists, {self.n_books} books a day, {dates[0]} to {dates[-1]} ({len(dates)} days):",
            "",
            format_rank_table(payload["words"], dates),
            "",
            f"entered: {', '.join(payload['entered']) or 'none'}",
            f"left: {', '.join(payload['left']) or 'none'}",
            f"books added: {books(payload['books_added'])}",
            f"books removed: {books(payload['books_removed'])}",
            *(f"{kind:>4}: {target.path}" for kind, target in self.output().items()),
            "",
        ]
        return "\n".join(lines)


def _rank_cell(rank: int | None) -> str:
    return "-" if rank is None else str(rank)


def format_rank_table(words: list[dict[str, Any]], dates: list[str]) -> str:
    """A fixed-width table of each word's rank per date, `-` where it is not in that day's top list."""
    word_width = max([len("word"), *(len(w["word"]) for w in words)])
    widths = [max(len(d), 4) for d in dates]
    lines = [
        "  ".join([f"{'word':<{word_width}}", *(f"{d:>{w}}" for d, w in zip(dates, widths, strict=True))])
    ]
    lines.append("  ".join(["-" * word_width, *("-" * w for w in widths)]))
    for word in words:
        cells = (f"{_rank_cell(word['ranks'][d]):>{w}}" for d, w in zip(dates, widths, strict=True))
        lines.append("  ".join([f"{word['word']:<{word_width}}", *cells]))
    return "\n".join(lines)


def write_trend_csv(target: luigi.target.FileSystemTarget, payload: dict[str, Any]) -> None:
    """`word,<date>,...`, one row per word with its rank per date, empty where absent."""
    dates = payload["dates"]
    rows = (
        [w["word"], *("" if w["ranks"][d] is None else w["ranks"][d] for d in dates)]
        for w in payload["words"]
    )
    report.write_csv(target, rows, header=["word", *dates])


def chart_words(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The words drawn: the last day's top CHART_TOP, then the words that left, in the payload's order."""
    last = payload["dates"][-1]
    left = set(payload["left"])
    return [
        w
        for w in payload["words"]
        if (w["ranks"][last] is not None and w["ranks"][last] <= CHART_TOP) or w["word"] in left
    ]


def write_bump_chart(target: luigi.target.FileSystemTarget, payload: dict[str, Any], title: str) -> None:
    """Rank per date, one labelled line per charted word, rank 1 on top; absent days break the line."""
    plt = report.pyplot()
    dates = payload["dates"]
    words = chart_words(payload)
    max_rank = max([1, *(r for w in words for r in w["ranks"].values() if r is not None)])
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(dates) + 3.5), max(4.0, 0.4 * max_rank + 1.8)))
    colors = plt.get_cmap("tab20").colors
    xs = list(range(len(dates)))
    for index, word in enumerate(words):
        ys = [math.nan if word["ranks"][d] is None else word["ranks"][d] for d in dates]
        color = colors[index % len(colors)]
        ax.plot(xs, ys, marker="o", color=color, linewidth=2)
        present = [x for x, y in zip(xs, ys, strict=True) if not math.isnan(y)]
        # Labels at both ends of the line, so words that left are named where they were.
        ends = [(present[-1], 6, "left")] + ([(present[0], -6, "right")] if len(present) > 1 else [])
        for x, offset, align in ends:
            ax.annotate(
                word["word"],
                (x, ys[x]),
                xytext=(offset, 0),
                textcoords="offset points",
                va="center",
                ha=align,
                fontsize=8,
                color=color,
            )
    ax.set_xticks(xs, dates, rotation=30 if len(dates) > 4 else 0)
    ax.set_xlim(-0.9, len(dates) - 0.1)
    ax.set_yticks(range(1, max_rank + 1))
    ax.set_ylim(max_rank + 0.5, 0.5)
    ax.set_ylabel("rank")
    ax.set_title(title, fontsize=10)
    report.write_png(target, report.png_bytes(fig))


@TopWordsTrend.event_handler(luigi.Event.DEPENDENCY_PRESENT)
def _print_existing_trend(task: TopWordsTrend) -> None:
    """A rerun with nothing to do still shows the trend it made before."""
    print(task.summary(formats.read_json(task.output()["json"])), flush=True)
