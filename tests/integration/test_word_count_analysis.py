"""The Spark job's per-book analysis (jobs/word_count.py --analysis) against plain-Python computations."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from jobs import textrules, word_count
from tests.support import JOBS, REPO, SPARK_ENV, mirror_body

pytestmark = pytest.mark.spark

# (book_id, rank, language, text). Ranks run against book ids, so sorting by either would show. "ahab" is in
# every book (tf-idf 0); "son" is an English word and a French stop word; "whale" is in two books.
LITERAL_BOOKS = [
    (
        30,
        2,
        "English",
        "The whale, the whale! Ahab and his son saw the whale at sea. The son of the captain said: "
        "de la mer, the sea. Whale oil, whale bone; the son sailed on.",
    ),
    (
        10,
        3,
        "French",
        "La mer, la mer! Ahab et son fils sur la mer. Le fils de la mer dit: de la baleine, de la mer. "
        "La baleine et le fils.",
    ),
    (
        20,
        1,
        "German",
        "Der Wal, der Wal! Ahab und sein Sohn sahen die See. Der Sohn des Kapitäns sagte: die See, "
        "die See. Der Wal und der Sohn, whale.",
    ),
]
PER_BOOK = 3
GROWTH_POINTS = 7

BOOKS_TYPES = [
    ("book_id", pa.int64()),
    ("rank", pa.int32()),
    ("language", pa.string()),
    ("stopword_language", pa.string()),
    ("tokens", pa.int64()),
    ("distinct_words", pa.int64()),
    ("hapax_words", pa.int64()),
]
BOOK_WORDS_TYPES = [
    ("book_id", pa.int64()),
    ("list", pa.string()),
    ("rank", pa.int32()),
    ("word", pa.string()),
    ("count", pa.int64()),
    ("tfidf", pa.float64()),
]
GROWTH_TYPES = [("tokens", pa.int64()), ("distinct_words", pa.int64())]
PROGRESS_RE = re.compile(rf"^{re.escape(word_count.PROGRESS_PREFIX)}(\d+)% (.+)$")


def spark_stopwords() -> dict[str, frozenset[str]]:
    """Spark ML's lists, normalised as the job normalises them (needs a running JVM)."""
    from pyspark.ml.feature import StopWordsRemover

    return {
        name: frozenset(textrules.normalize_word(w) for w in StopWordsRemover.loadDefaultStopWords(name))
        for name in textrules.SPARK_STOPWORD_LISTS
    }


def reference(
    books: list[tuple[int, int, str, str]],
    per_book: int,
    growth_points: int,
    stopwords: dict[str, frozenset[str]],
) -> dict[str, list[dict[str, Any]]]:
    """The three analysis tables, in written order, computed in plain Python."""
    ordered = sorted(books, key=lambda b: (b[1], b[0]))
    tokens = {book_id: textrules.words(text) for book_id, _, _, text in ordered}
    counts = {book_id: Counter(words) for book_id, words in tokens.items()}
    df = Counter(word for c in counts.values() for word in c)
    n_books = len(books)
    book_rows, word_rows = [], []
    for book_id, rank, language, _ in ordered:
        c, total = counts[book_id], len(tokens[book_id])
        stop_name = textrules.stopword_language(language)
        book_rows.append(
            {
                "book_id": book_id,
                "rank": rank,
                "language": language,
                "stopword_language": stop_name,
                "tokens": total,
                "distinct_words": len(c),
                "hapax_words": sum(1 for n in c.values() if n == 1),
            }
        )
        kept = {w: n for w, n in c.items() if w not in stopwords.get(stop_name, frozenset())}
        tfidf = {w: (n / total) * math.log(n_books / df[w]) for w, n in kept.items()}
        top = sorted(kept, key=lambda w: (-kept[w], w))[:per_book]
        distinctive = sorted((w for w in kept if tfidf[w] > 0), key=lambda w: (-tfidf[w], w))[:per_book]
        for name, chosen in (("distinctive", distinctive), ("top", top)):  # the lists sort by name
            word_rows += [
                {"book_id": book_id, "list": name, "rank": i, "word": w, "count": kept[w], "tfidf": tfidf[w]}
                for i, w in enumerate(chosen, 1)
            ]
    stream = [w for book_id, *_ in ordered for w in tokens[book_id]]
    growth_rows = []
    if stream:
        step = -(-len(stream) // growth_points)
        seen: set[str] = set()
        for t in [*range(step, len(stream), step), len(stream)]:
            seen.update(stream[:t])
            growth_rows.append({"tokens": t, "distinct_words": len(seen)})
    return {"books": book_rows, "book_words": word_rows, "growth": growth_rows}


def corpus_frame(spark, books: list[tuple[int, int, str, str]]):
    return spark.createDataFrame(books, word_count.ANALYSIS_COLUMNS)


def collect_sorted(tables) -> dict[str, list[dict[str, Any]]]:
    """The analysis tables as dicts, in the order the job writes them (sorted here: fewer Spark stages)."""
    books = sorted((r.asDict() for r in tables["books"].collect()), key=lambda r: (r["rank"], r["book_id"]))
    words = sorted(
        (r.asDict() for r in tables["book_words"].collect()),
        key=lambda r: (r["book_rank"], r["book_id"], r["list"], r["rank"]),
    )
    growth = sorted((r.asDict() for r in tables["growth"].collect()), key=lambda r: r["tokens"])
    return {
        "books": books,
        "book_words": [{k: v for k, v in r.items() if k != "book_rank"} for r in words],
        "growth": growth,
    }


def assert_same_tables(actual: dict[str, list[dict]], expected: dict[str, list[dict]]) -> None:
    """Equal row for row; tf-idf to 1e-12 (the JVM's log and C's may differ in the last bit)."""
    assert actual["books"] == expected["books"]
    assert actual["growth"] == expected["growth"]
    strip = [{k: v for k, v in row.items() if k != "tfidf"} for row in actual["book_words"]]
    assert strip == [{k: v for k, v in row.items() if k != "tfidf"} for row in expected["book_words"]]
    tfidf = [row["tfidf"] for row in actual["book_words"]]
    assert tfidf == pytest.approx([row["tfidf"] for row in expected["book_words"]], rel=1e-12)


@pytest.fixture(scope="module", params=["jvm", "builtin"])
def literal(spark, request) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """(Spark's tables, plain Python's tables) for LITERAL_BOOKS, with each tokenizer."""
    stopwords = word_count.load_stopwords(spark)
    corpus = corpus_frame(spark, LITERAL_BOOKS)
    tables = word_count.analyse(corpus, stopwords, PER_BOOK, GROWTH_POINTS, request.param)
    return collect_sorted(tables), reference(LITERAL_BOOKS, PER_BOOK, GROWTH_POINTS, spark_stopwords())


def test_stopword_lists_are_the_ones_spark_ml_ships(spark) -> None:
    import pyspark

    jars = list((Path(pyspark.__file__).parent / "jars").glob("spark-mllib_*.jar"))
    assert len(jars) == 1
    names = zipfile.ZipFile(jars[0]).namelist()
    shipped = sorted(
        m.group(1)
        for n in names
        if (m := re.fullmatch(r"org/apache/spark/ml/feature/stopwords/(\w+)\.txt", n))
    )
    assert list(textrules.SPARK_STOPWORD_LISTS) == shipped
    assert set(textrules.STOPWORD_LANGUAGES.values()) == set(shipped)
    assert all(len(words) > 50 for words in spark_stopwords().values())  # each one loads


def test_stopword_language_column_is_the_python_rule(spark) -> None:
    values = [
        "English", "French", "German", "Spanish", "de", "FR", " nb ", "English, French", "English and French",
        "English; Latin", "Portuguese/English", "French & English", "Latin, English", ", French", "Esperanto",
        "unknown", "", None, "Englishand French", "Norwegian Bokmål", "\tdutch\t",
    ]  # fmt: skip
    frame = spark.createDataFrame([(v,) for v in values], "language string")
    rows = frame.select("language", word_count.stopword_language(F.col("language")).alias("s")).collect()
    assert [(row["language"], row["s"]) for row in rows] == [
        (v, textrules.stopword_language(v)) for v in values
    ]
    assert [row["s"] for row in rows][:9] == [
        "english", "french", "german", "spanish", "german", "french", "norwegian", "english", "english",
    ]  # fmt: skip


def test_literal_corpus_matches_plain_python(literal) -> None:
    actual, expected = literal
    assert_same_tables(actual, expected)
    # The reference itself, on facts readable from the texts: German is rank 1, so it comes first.
    assert [b["book_id"] for b in actual["books"]] == [20, 30, 10]
    assert [b["stopword_language"] for b in actual["books"]] == ["german", "english", "french"]
    assert sum(b["tokens"] for b in actual["books"]) == actual["growth"][-1]["tokens"] == 86
    assert len(actual["growth"]) == GROWTH_POINTS

    def listed(book_id: int, name: str) -> list[tuple[str, int]]:
        return [
            (r["word"], r["count"])
            for r in actual["book_words"]
            if (r["book_id"], r["list"]) == (book_id, name)
        ]

    assert listed(30, "top") == [("whale", 5), ("son", 3), ("sea", 2)]
    assert listed(30, "distinctive") == [("sea", 2), ("whale", 5), ("son", 3)]
    assert listed(10, "top") == [("mer", 5), ("fils", 3), ("baleine", 2)]
    assert listed(20, "top") == [("see", 3), ("sohn", 3), ("wal", 3)]  # a tie, by word
    # "ahab" is in every book: ln(3 / 3) = 0, never distinctive.
    assert all(r["word"] != "ahab" for r in actual["book_words"] if r["list"] == "distinctive")


def test_stop_words_are_left_out_by_each_books_language(literal, spark) -> None:
    actual, _ = literal
    listed = {b: {r["word"] for r in actual["book_words"] if r["book_id"] == b} for b in (10, 20, 30)}
    french = spark_stopwords()["french"]
    assert {"de", "la", "le", "et", "son"} <= french
    assert listed[10].isdisjoint({"de", "la", "le", "et", "son"})
    assert listed[20].isdisjoint({"der", "die", "und", "des", "sein"})
    assert listed[30].isdisjoint({"the", "and", "his", "of", "at", "on"})
    # A French stop word in the English book is an English word there.
    assert "son" in listed[30]


@pytest.mark.parametrize("tokenizer", ["jvm", "builtin"])
def test_empty_corpus_gives_empty_tables(spark, tokenizer: str) -> None:
    tables = word_count.analyse(corpus_frame(spark, []), word_count.load_stopwords(spark), 5, 3, tokenizer)
    assert {name: frame.collect() for name, frame in tables.items()} == {
        "counts": [], "books": [], "book_words": [], "growth": [],
    }  # fmt: skip


@pytest.mark.parametrize("tokenizer", ["jvm", "builtin"])
def test_mirror_books_statistics_match_the_python_rules(spark, tokenizer: str) -> None:
    books = [(1080, 1, "English", mirror_body(1080)), (2229, 2, "German", mirror_body(2229))]
    books.append((17989, 3, "French", mirror_body(17989)))
    stopwords = word_count.load_stopwords(spark)
    tables = word_count.analyse(corpus_frame(spark, books), stopwords, 5, 10, tokenizer)
    rows = [row.asDict() for row in tables["books"].orderBy("rank").collect()]
    expected = []
    for book_id, rank, language, text in books:
        counts = textrules.count_words([text])
        expected.append(
            {
                "book_id": book_id,
                "rank": rank,
                "language": language,
                "stopword_language": language.lower(),
                "tokens": sum(counts.values()),
                "distinct_words": len(counts),
                "hapax_words": sum(1 for n in counts.values() if n == 1),
            }
        )
    assert rows == expected
    assert min(row["tokens"] for row in rows) > 2000
    all_counts = textrules.count_words(text for *_, text in books)
    growth = [row.asDict() for row in tables["growth"].orderBy("tokens").collect()]
    assert len(growth) == 10
    assert growth[-1] == {"tokens": sum(all_counts.values()), "distinct_words": len(all_counts)}
    assert [g["distinct_words"] for g in growth] == sorted(g["distinct_words"] for g in growth)


def write_corpus(path: Path, books: list[tuple[int, int, str, str]]) -> None:
    """A corpus part as the pipeline writes it, with the columns the job reads (and one it does not)."""
    path.mkdir()
    table = pa.table(
        {
            "book_id": pa.array([b[0] for b in books], pa.int64()),
            "rank": pa.array([b[1] for b in books], pa.int32()),
            "title": [f"Book {b[0]}" for b in books],
            "language": [b[2] for b in books],
            "text": [b[3] for b in books],
        }
    )
    pq.write_table(table, path / "part-00000.parquet", row_group_size=1)


def read_one_file(directory: Path) -> pa.Table:
    """The single part file of a Spark output directory."""
    parts = sorted(directory.glob("part-*.parquet"))
    assert len(parts) == 1 and (directory / "_SUCCESS").exists(), sorted(p.name for p in directory.iterdir())
    return pq.read_table(parts[0])


def read_analysis(output: Path) -> dict[str, list[dict[str, Any]]]:
    """The three _analysis tables as written, after checking their column names and types."""
    base = output / word_count.ANALYSIS_DIR
    assert sorted(p.name for p in base.iterdir()) == ["book_words", "books", "growth"]
    tables = {}
    for name, types in (("books", BOOKS_TYPES), ("book_words", BOOK_WORDS_TYPES), ("growth", GROWTH_TYPES)):
        table = read_one_file(base / name)
        assert [(f.name, f.type) for f in table.schema] == types
        tables[name] = table.to_pylist()
    return tables


def test_run_writes_the_same_counts_and_the_analysis_layout(spark, tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus", LITERAL_BOOKS)
    corpus = str(tmp_path / "corpus")
    word_count.run(spark, corpus, str(tmp_path / "plain"))
    word_count.run(
        spark, corpus, str(tmp_path / "out"), analysis=True, per_book=PER_BOOK, growth_points=GROWTH_POINTS
    )
    plain, counts = read_one_file(tmp_path / "plain"), read_one_file(tmp_path / "out")
    assert counts.equals(plain) and counts.schema.equals(plain.schema)
    assert counts.num_rows == len(textrules.count_words(b[3] for b in LITERAL_BOOKS))
    # The leading underscore keeps the analysis out of OUTPUT read as a dataset.
    assert pq.read_table(tmp_path / "out").equals(plain)
    expected = reference(LITERAL_BOOKS, PER_BOOK, GROWTH_POINTS, spark_stopwords())
    assert_same_tables(read_analysis(tmp_path / "out"), expected)


def test_script_with_analysis_under_spark_submit(spark, tmp_path: Path, jobs_zip: Path) -> None:
    """spark-submit --py-files jobs.zip jobs/word_count.py IN OUT --analysis, with progress lines."""
    books = [
        (7, 1, "English, French", "The cat and the dog; the cat’s son. De la."),
        (5, 2, "French", "Le chat et le chien, de la maison: le chat."),
        (9, 3, "unknown", "the cat the dog"),
        (8, 4, "German", ""),
    ]
    write_corpus(tmp_path / "corpus", books)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "spark-submit"),
            "--master",
            "local[2]",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            f"spark.pyspark.python={sys.executable}",
            # A short run: the JIT's first tier alone starts sooner (a third off this test's time here).
            "--driver-java-options",
            "-XX:TieredStopAtLevel=1",
            "--py-files",
            str(jobs_zip),
            str(JOBS / "word_count.py"),
            str(tmp_path / "corpus"),
            str(tmp_path / "out"),
            "--analysis",
            "--per-book",
            "2",
            "--growth-points",
            "4",
        ],
        cwd=REPO,
        env=SPARK_ENV,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    expected_counts = sorted(
        textrules.count_words(b[3] for b in books).items(), key=lambda wc: (-wc[1], wc[0])
    )
    counts = read_one_file(tmp_path / "out")
    assert counts.to_pylist() == [{"word": w, "count": n} for w, n in expected_counts]
    analysis = read_analysis(tmp_path / "out")
    assert_same_tables(analysis, reference(books, 2, 4, spark_stopwords()))
    # No list for "unknown": its stop words stay. A book without a word has zeros, not nulls.
    assert [r["stopword_language"] for r in analysis["books"]] == ["english", "french", None, "german"]
    assert ("the", 2) in [(r["word"], r["count"]) for r in analysis["book_words"] if r["book_id"] == 9]
    assert analysis["books"][3] == {
        "book_id": 8, "rank": 4, "language": "German", "stopword_language": "german",
        "tokens": 0, "distinct_words": 0, "hapax_words": 0,
    }  # fmt: skip
    assert not any(r["book_id"] == 8 for r in analysis["book_words"])

    # The console progress bar redraws with a bare CR, so a progress line may follow one: split on both.
    progress = [m.groups() for m in map(PROGRESS_RE.match, result.stderr.splitlines()) if m]
    assert progress, result.stderr[-3000:]
    percents = [int(p) for p, _ in progress]
    assert percents == sorted(percents) and all(0 <= p <= 100 for p in percents)
    assert progress[-1] == ("100", "done") and percents.count(100) == 1
    messages = [m for _, m in progress]
    for i, step in enumerate(word_count.ANALYSIS_STEPS, 1):
        assert any(re.fullmatch(rf"step {i}/4 {step}: \d+/\d+ tasks", m) for m in messages), messages
    assert word_count.PROGRESS_PREFIX not in result.stdout
