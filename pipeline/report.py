"""Ranking the word table and writing the top-words report: CSV, JSON, PNG, HTML and a printed table.

Also the two corpus laws the HTML report fits: Zipf (count against rank) and Heaps (distinct words
against tokens read), each a least-squares line on log-log axes.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from luigi.target import FileSystemTarget

CHART_MAX_WORDS = 50
# Zipf's law holds for the head of the list; the long tail of words seen once or twice is a flat staircase
# that would dominate a fit over every rank, so the fit stops at this rank.
ZIPF_MAX_RANK = 1000


def rank_words(
    counts: Iterable[tuple[str, int]], stopwords: frozenset[str], n_words: int
) -> list[tuple[int, str, int]]:
    """(rank, word, count) by count descending, ties by word in code point order; n_words=0 keeps all."""
    kept = sorted(((w, c) for w, c in counts if w not in stopwords), key=lambda wc: (-wc[1], wc[0]))
    if n_words:
        kept = kept[:n_words]
    return [(rank, word, count) for rank, (word, count) in enumerate(kept, start=1)]


def write_csv(
    target: FileSystemTarget, rows: Iterable[Sequence[Any]], header: Sequence[str] = ("rank", "word", "count")
) -> None:
    """`header` and `rows` as CSV with LF line ends (a top-words table unless told otherwise)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with target.open("w") as handle:
        handle.write(buffer.getvalue())


@dataclass(frozen=True)
class PowerLaw:
    """y = constant * x ** exponent, fitted by least squares of ln y on ln x."""

    exponent: float
    constant: float
    r_squared: float
    points: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def fit_power_law(xs: Sequence[float], ys: Sequence[float]) -> PowerLaw | None:
    """The least-squares line through (ln x, ln y); None with fewer than two distinct x."""
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} x values but {len(ys)} y values")
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    n = len(lx)
    if n < 2:
        return None
    mx, my = sum(lx) / n, sum(ly) / n
    sxx = sum((x - mx) ** 2 for x in lx)
    if sxx == 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(lx, ly, strict=True))
    syy = sum((y - my) ** 2 for y in ly)
    slope = sxy / sxx
    r_squared = 1.0 if syy == 0 else sxy * sxy / (sxx * syy)
    return PowerLaw(exponent=slope, constant=math.exp(my - slope * mx), r_squared=r_squared, points=n)


def zipf_fit(counts: Sequence[int]) -> PowerLaw | None:
    """Zipf's law on counts sorted descending: count = C * rank ** exponent over ranks 1..ZIPF_MAX_RANK.

    The exponent is negative (about -1 for English prose); the report shows its size, Zipf's s.
    """
    head = list(counts[:ZIPF_MAX_RANK])
    return fit_power_law(range(1, len(head) + 1), head)


def heaps_fit(points: Sequence[tuple[int, int]]) -> PowerLaw | None:
    """Heaps' law on (tokens read, distinct words seen) points: distinct = K * tokens ** beta."""
    kept = [(n, v) for n, v in points if n > 0 and v > 0]
    return fit_power_law([n for n, _ in kept], [v for _, v in kept])


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    return plt


def png_bytes(fig: Any) -> bytes:
    """`fig` laid out and rendered as PNG at 100 dpi, then closed."""
    buffer = io.BytesIO()
    try:
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=100)
    finally:
        pyplot().close(fig)
    return buffer.getvalue()


def chart_png(rows: Sequence[tuple[int, str, int]], title: str) -> bytes:
    """Horizontal bar chart of the first CHART_MAX_WORDS rows, most frequent on top."""
    plt = pyplot()
    shown = list(rows[:CHART_MAX_WORDS])
    height = max(3.0, 0.22 * len(shown) + 1.5)
    fig, ax = plt.subplots(figsize=(8, height))
    ax.barh([w for _, w, _ in reversed(shown)], [c for _, _, c in reversed(shown)], color="#3b6ea5")
    ax.set_xlabel("occurrences")
    ax.set_title(title)
    ax.margins(y=0.01)
    return png_bytes(fig)


def write_png(target: FileSystemTarget, data: bytes) -> None:
    """PNG bytes to a binary target."""
    with target.open("w") as handle:
        handle.write(data)


def zipf_png(counts: Sequence[int], fit: PowerLaw | None) -> bytes:
    """Count against rank of every word on log-log axes, with the fitted line over its ranks."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ranks = range(1, len(counts) + 1)
    ax.loglog(ranks, counts, ".", markersize=2, color="#3b6ea5", label="words")
    if fit is not None:
        xs = [1, fit.points]
        ax.loglog(
            xs,
            [fit.constant * x**fit.exponent for x in xs],
            "-",
            color="#c0392b",
            label=f"fit, ranks 1-{fit.points}: s = {-fit.exponent:.3f}",
        )
        ax.legend()
    ax.set_xlabel("rank")
    ax.set_ylabel("occurrences")
    ax.set_title("Rank-frequency (Zipf)")
    return png_bytes(fig)


def heaps_png(points: Sequence[tuple[int, int]], fit: PowerLaw | None) -> bytes:
    """Distinct words against tokens read, with the fitted Heaps curve."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot([n for n, _ in points], [v for _, v in points], ".", color="#3b6ea5", label="corpus, rank order")
    if fit is not None and points:
        xs = [points[0][0] * (points[-1][0] / points[0][0]) ** (i / 50) for i in range(51)]
        ax.plot(
            xs,
            [fit.constant * x**fit.exponent for x in xs],
            "-",
            color="#c0392b",
            label=f"fit: K = {fit.constant:.2f}, beta = {fit.exponent:.3f}",
        )
        ax.legend()
    ax.set_xlabel("tokens read")
    ax.set_ylabel("distinct words")
    ax.set_title("Vocabulary growth (Heaps)")
    return png_bytes(fig)


def format_table(rows: Sequence[tuple[int, str, int]]) -> str:
    """A fixed-width text table of rank, word and count."""
    word_width = max([len("word"), *(len(w) for _, w, _ in rows)])
    count_width = max([len("count"), *(len(f"{c:,}") for _, _, c in rows)])
    rank_width = max(len("rank"), len(str(len(rows))))
    lines = [f"{'rank':>{rank_width}}  {'word':<{word_width}}  {'count':>{count_width}}"]
    lines.append(f"{'-' * rank_width}  {'-' * word_width}  {'-' * count_width}")
    lines += [f"{r:>{rank_width}}  {w:<{word_width}}  {c:>{count_width},}" for r, w, c in rows]
    return "\n".join(lines)
