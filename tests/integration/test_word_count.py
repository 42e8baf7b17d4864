"""The Spark job (jobs/word_count.py) against the pure-Python text rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import types as T

from jobs import textrules, word_count
from tests.support import JOBS, REPO, SPARK_ENV, mirror_body, mirror_book_ids

pytestmark = pytest.mark.spark

SCHEMA = T.StructType([T.StructField("text", T.StringType())])
# Every count test runs on both tokenizers: the JVM one (jobs/jvm) and Spark's built-in functions.
by_tokenizer = pytest.mark.parametrize("tokenizer", ["jvm", "builtin"])


def as_dict(frame) -> dict[str, int]:
    return {row["word"]: row["count"] for row in frame.collect()}


def mirror_bodies() -> list[str]:
    return [mirror_body(i) for i in mirror_book_ids()]


@by_tokenizer
def test_literal_corpus(spark, tokenizer: str) -> None:
    corpus = spark.createDataFrame(
        [("Don’t stop: don't STOP, well-known _italic_ 1984",), ("ΟΔΟΣ İstanbul café\nnaïve l'homme",)],
        SCHEMA,
    )
    counts = word_count.count_words(corpus, tokenizer)
    assert counts.schema == T.StructType(
        [T.StructField("word", T.StringType(), True), T.StructField("count", T.LongType(), False)]
    )
    assert as_dict(counts) == {
        "don't": 2,
        "stop": 2,
        "well": 1,
        "known": 1,
        "italic": 1,
        "οδος": 1,
        "i̇stanbul": 1,
        "café": 1,
        "naïve": 1,
        "l'homme": 1,
    }


@by_tokenizer
def test_empty_corpus(spark, tokenizer: str) -> None:
    assert word_count.count_words(spark.createDataFrame([], SCHEMA), tokenizer).collect() == []


@by_tokenizer
def test_all_shared_books_match_the_python_rules_word_for_word(spark, tokenizer: str) -> None:
    bodies = mirror_bodies()
    assert len(bodies) == 23
    expected = textrules.count_words(bodies)
    corpus = spark.createDataFrame([(body,) for body in bodies], SCHEMA).repartition(4)
    actual = as_dict(word_count.count_words(corpus, tokenizer))
    differing = {w for w in expected.keys() | actual.keys() if expected.get(w) != actual.get(w)}
    assert sorted(differing)[:20] == []
    assert actual == dict(expected)
    assert sum(actual.values()) == sum(expected.values()) > 2_000_000


def test_english_stopword_file_is_spark_mls_list(spark) -> None:
    from pyspark.ml.feature import StopWordsRemover

    lines = (textrules.STOPWORDS_DIR / "english.txt").read_text(encoding="utf-8").splitlines()
    assert lines == StopWordsRemover.loadDefaultStopWords("english")


def test_script_runs_under_spark_submit(tmp_path: Path, jobs_zip: Path) -> None:
    """The documented command: spark-submit --py-files jobs.zip jobs/word_count.py IN OUT."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    pq.write_table(pa.table({"text": ["b a b", "c’d C’D a"]}), corpus / "part-00000.parquet")
    spark_submit = Path(sys.executable).parent / "spark-submit"
    result = subprocess.run(
        [
            str(spark_submit),
            "--master",
            "local[1]",
            "--conf",
            f"spark.pyspark.python={sys.executable}",
            "--py-files",
            str(jobs_zip),
            str(JOBS / "word_count.py"),
            str(corpus),
            str(tmp_path / "out"),
        ],
        cwd=REPO,
        env=SPARK_ENV,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    table = pq.read_table(tmp_path / "out")
    assert table.schema.field("count").type == pa.int64()
    assert table.to_pylist() == [
        {"word": "a", "count": 2},
        {"word": "b", "count": 2},
        {"word": "c'd", "count": 2},
    ]
    assert (tmp_path / "out" / "_SUCCESS").exists()


# Lowercasing these texts whole would differ from lowercasing each token: the sigmas next to `.` and `''`.
SIGMA_TEXTS = ["ΟΔΟΣ.Α Α.Σ ΣΑΣ''ΑΣ Don’t", "Plain Text, no capital sigma: İstanbul Don’t ÉCOLE"]


@by_tokenizer
def test_capital_sigma_texts_are_lowercased_token_by_token(spark, tokenizer: str) -> None:
    expected = textrules.count_words(SIGMA_TEXTS)
    assert expected == {
        "οδος": 1, "α": 2, "σ": 1, "σας": 1, "ας": 1, "don't": 2,
        "plain": 1, "text": 1, "no": 1, "capital": 1, "sigma": 1, "i̇stanbul": 1, "école": 1,
    }  # fmt: skip
    assert "".join(SIGMA_TEXTS[0].split()[0]).lower() == "οδοσ.α"  # what the whole-text shortcut would see
    corpus = spark.createDataFrame([(text,) for text in SIGMA_TEXTS], SCHEMA)
    assert as_dict(word_count.count_words(corpus, tokenizer)) == dict(expected)
