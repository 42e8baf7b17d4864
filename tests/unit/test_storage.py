"""Output paths: parameters are the identity of outputs, and config reaches every task."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import luigi
import pytest
from luigi import date_interval

import pipeline
from pipeline import gutenberg as gb
from pipeline import storage
from pipeline.corpus import CorpusParquet, CorpusText
from pipeline.fetch import CatalogRecord, DownloadBook, TopBooks
from pipeline.mapreduce import TopWordsHadoop, TopWordsMR, WordCountHadoop, WordCountMR
from pipeline.spark import TopWordsSpark, WordCountSpark
from pipeline.trend import TopWordsTrend
from tests.support import ConfigOverride

DAY = datetime.date(2026, 11, 20)


class StorageRoot(ConfigOverride):
    """Point [storage] root at a folder or URI for the duration of a test."""

    def __init__(self, path: str) -> None:
        super().__init__("storage", "root", path)


@pytest.fixture
def root(tmp_path: Path):
    with StorageRoot(str(tmp_path)):
        yield tmp_path


def test_project_config_is_loaded_without_luigi_config_path() -> None:
    assert str(pipeline.config.LUIGI_CFG) in luigi.configuration.LuigiConfigParser._config_paths
    config = luigi.configuration.get_config()
    assert config.getint("retcode", "task_failed") == 30
    assert config.get("spark", "master") == "local[*]"


def test_paths_of_each_task(root: Path) -> None:
    r = str(root)
    assert TopBooks(date=DAY, period="last7").output().path == f"{r}/top_books/last7/2026-11-20.json"
    assert DownloadBook(book_id=84).output().path == f"{r}/raw/84/pg84.txt"
    assert DownloadBook(book_id=84).missing().path == f"{r}/raw/84/missing.json"
    assert CorpusParquet(date=DAY, n_books=3).output().path == f"{r}/corpus/yesterday/2026-11-20/books-3"
    assert (
        WordCountSpark(date=DAY, n_books=3).output().path
        == f"{r}/word_counts/spark/yesterday/2026-11-20/books-3"
    )
    outputs = TopWordsSpark(date=DAY, n_books=3, n_words=0, stopwords="none").output()
    prefix = f"{r}/top_words/spark/yesterday/2026-11-20/books-3/top-0_stop-none"
    assert {k: t.path for k, t in outputs.items()} == {
        "csv": prefix + ".csv",
        "json": prefix + ".json",
        "png": prefix + ".png",
        "html": prefix + ".html",
    }


def test_different_parameters_give_different_paths(root: Path) -> None:
    base = {"date": DAY, "period": "yesterday", "n_books": 10, "n_words": 50, "stopwords": "english"}
    variants = [
        base,
        {**base, "date": DAY + datetime.timedelta(days=1)},
        {**base, "period": "last30"},
        {**base, "n_books": 11},
        {**base, "n_words": 0},
        {**base, "stopwords": "none"},
    ]
    paths = [TopWordsSpark(**v).output()["csv"].path for v in variants]
    assert len(set(paths)) == len(variants)
    corpus_params = [{k: v[k] for k in ("date", "period", "n_books")} for v in variants[:4]]
    assert len({CorpusParquet(**p).output().path for p in corpus_params}) == 4
    assert len({WordCountSpark(**p).output().path for p in corpus_params}) == 4


def test_top_books_list_is_shared_by_every_n_books(root: Path) -> None:
    assert TopBooks(date=DAY, n_books=3).output().path == TopBooks(date=DAY, n_books=30).output().path


def test_stopword_file_key_follows_its_content(root: Path, tmp_path: Path) -> None:
    stop = tmp_path / "stop.txt"
    stop.write_text("alpha\n")
    first = TopWordsSpark(date=DAY, stopwords=str(stop)).output()["csv"].path
    assert "/top-50_stop-file-" in first
    assert TopWordsSpark(date=DAY, stopwords=str(stop)).output()["csv"].path == first
    stop.write_text("alpha\nbeta\n")
    assert TopWordsSpark(date=DAY, stopwords=str(stop)).output()["csv"].path != first


def test_missing_stopword_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=f"^stop-word file {tmp_path}/absent.txt: No such file or directory$"
    ):
        storage.stopwords_key(str(tmp_path / "absent.txt"))


def test_local_root_gives_local_targets(root: Path) -> None:
    assert isinstance(DownloadBook(book_id=1).output(), luigi.LocalTarget)


def test_every_output_path_stays_under_the_storage_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    stop = tmp_path / "x" / ".." / "stop words; rm -rf ~.txt"
    (tmp_path / "x").mkdir()
    stop.write_text("the\n", encoding="utf-8")
    tasks: list[luigi.Task] = []
    for period in gb.PERIOD_SECTIONS:
        corpus = {"date": DAY, "period": period, "n_books": 1}
        tasks += [TopBooks(date=DAY, period=period), CorpusParquet(**corpus), WordCountSpark(**corpus)]
        tasks += [CorpusText(**corpus), WordCountMR(**corpus), WordCountHadoop(**corpus)]
        for stopwords in ("english", "none", str(stop)):
            words = {**corpus, "n_words": 0, "stopwords": stopwords}
            tasks += [TopWordsSpark(**words), TopWordsMR(**words), TopWordsHadoop(**words)]
            trend = {"period": period, "n_books": 1, "stopwords": stopwords}
            tasks.append(TopWordsTrend(date_interval=date_interval.Week.from_date(DAY), **trend))
    downloads = [DownloadBook(book_id=i) for i in (1, 84, 10**9)]
    with ConfigOverride("storage", "root", str(root)):
        paths = [t.path for task in tasks for t in luigi.task.flatten(task.output())]
        paths += [d.output().path for d in downloads] + [d.missing().path for d in downloads]
        paths += [CatalogRecord(book_id=d.book_id).output().path for d in downloads]
        paths += [storage.timing_path(task.task_family, task.task_id) for task in tasks + downloads]
    # Per period: 6 corpus-level outputs, 3 stop-word choices x (3 engines x 4 report files + 3 trend files).
    assert len(paths) == 3 * (6 + 3 * (3 * 4 + 3)) + 9 + len(tasks) + len(downloads)
    for path in paths:
        assert ".." not in Path(path).parts, path
        assert os.path.commonpath([str(root), os.path.realpath(path)]) == str(root), path
    assert not root.exists()  # building targets creates nothing
