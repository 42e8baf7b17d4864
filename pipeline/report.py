"""Ranking the word table and writing the top-words report: CSV, JSON, PNG and a printed table."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from luigi.target import FileSystemTarget

CHART_MAX_WORDS = 50


def rank_words(
    counts: Iterable[tuple[str, int]], stopwords: frozenset[str], n_words: int
) -> list[tuple[int, str, int]]:
    """(rank, word, count) by count descending, ties by word in code point order; n_words=0 keeps all."""
    kept = sorted(((w, c) for w, c in counts if w not in stopwords), key=lambda wc: (-wc[1], wc[0]))
    if n_words:
        kept = kept[:n_words]
    return [(rank, word, count) for rank, (word, count) in enumerate(kept, start=1)]


def write_csv(target: FileSystemTarget, rows: Sequence[tuple[int, str, int]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["rank", "word", "count"])
    writer.writerows(rows)
    with target.open("w") as handle:
        handle.write(buffer.getvalue())


def write_json(target: FileSystemTarget, payload: dict[str, Any]) -> None:
    with target.open("w") as handle:
        json.dump(payload, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


def write_chart(target: FileSystemTarget, rows: Sequence[tuple[int, str, int]], title: str) -> None:
    """Horizontal bar chart of the first CHART_MAX_WORDS rows, most frequent on top."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    shown = list(rows[:CHART_MAX_WORDS])
    height = max(3.0, 0.22 * len(shown) + 1.5)
    fig, ax = plt.subplots(figsize=(8, height))
    try:
        ax.barh([w for _, w, _ in reversed(shown)], [c for _, _, c in reversed(shown)], color="#3b6ea5")
        ax.set_xlabel("occurrences")
        ax.set_title(title)
        ax.margins(y=0.01)
        fig.tight_layout()
        with target.open("w") as handle:
            fig.savefig(handle, format="png", dpi=100)
    finally:
        plt.close(fig)


def format_table(rows: Sequence[tuple[int, str, int]]) -> str:
    """A fixed-width text table of rank, word and count."""
    word_width = max([len("word"), *(len(w) for _, w, _ in rows)])
    count_width = max([len("count"), *(len(f"{c:,}") for _, _, c in rows)])
    rank_width = max(len("rank"), len(str(len(rows))))
    lines = [f"{'rank':>{rank_width}}  {'word':<{word_width}}  {'count':>{count_width}}"]
    lines.append(f"{'-' * rank_width}  {'-' * word_width}  {'-' * count_width}")
    lines += [f"{r:>{rank_width}}  {w:<{word_width}}  {c:>{count_width},}" for r, w, c in rows]
    return "\n".join(lines)
