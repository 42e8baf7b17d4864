"""pipeline/trend.py without running it: a date interval becomes one TopWordsSpark per day."""

from __future__ import annotations

import datetime

import luigi

from pipeline import TopWordsSpark, TopWordsTrend


def test_interval_days_and_parameters_reach_each_day() -> None:
    week = luigi.DateIntervalParameter().parse("2026-W47")
    trend = TopWordsTrend(date_interval=week, period="last7", n_books=3, n_words=5, stopwords="none")
    start = datetime.date(2026, 11, 16)
    assert trend.requires() == [
        TopWordsSpark(
            date=start + datetime.timedelta(days=n), period="last7", n_books=3, n_words=5, stopwords="none"
        )
        for n in range(7)
    ]
