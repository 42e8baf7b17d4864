"""Word count of a Parquet corpus with Spark DataFrame built-in functions (no Python UDFs).

Reads the `text` column of the corpus written by the pipeline's CorpusParquet task and writes one
Parquet file of `word` (string) and `count` (int64), sorted by count descending then word:

    spark-submit --py-files jobs/textrules.py jobs/word_count.py CORPUS_DIR OUTPUT_DIR

OUTPUT_DIR must not exist; the Luigi task passes a temporary path and renames it when the job succeeds.
CORPUS_DIR and OUTPUT_DIR may be any URI Spark reads and writes (local paths, file://, hdfs://).
"""

from __future__ import annotations

import argparse
import sys

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from textrules import APOSTROPHE_FROM, APOSTROPHE_TO, CONTEXT_CASED, WORD_PATTERN

# The corpus keeps one row group per book, so a part file splits at any book. Small splits and a small
# per-file cost spread even a few MB of books over every core; set either property to override.
SPLIT_DEFAULTS = {"spark.sql.files.maxPartitionBytes": "32m", "spark.sql.files.openCostInBytes": "1m"}


def words(text: Column) -> Column:
    """Every word of `text` per the text rules (lowercased, `’` as `'`), as one array per row.

    The same shortcut as `textrules.words`: a text without a capital sigma is lowercased whole before
    matching (one pass, no per-token copies); a text with one is lowercased token by token, because
    final sigma depends on what follows inside the token. Both branches sit before the explode: a
    per-token condition on the text would be re-evaluated for every token.
    """
    text = F.replace(text, F.lit(APOSTROPHE_FROM), F.lit(APOSTROPHE_TO))
    pattern = F.lit(WORD_PATTERN)
    return F.when(
        F.instr(text, CONTEXT_CASED) > 0, F.transform(F.regexp_extract_all(text, pattern, 0), F.lower)
    ).otherwise(F.regexp_extract_all(F.lower(text), pattern, 0))


def count_words(corpus: DataFrame) -> DataFrame:
    """`word`, `count` of every word in the corpus's `text` column."""
    tokens = corpus.select(F.explode(words(F.col("text"))).alias("word"))
    return tokens.groupBy("word").agg(F.count(F.lit(1)).cast("long").alias("count"))


def run(spark: SparkSession, corpus_path: str, output_path: str) -> None:
    """Read the corpus, count, and write a single sorted Parquet file."""
    # A given schema spares Spark a job that reads every footer to infer one.
    counts = count_words(spark.read.schema("text string").parquet(corpus_path))
    (
        counts.coalesce(1)
        .sortWithinPartitions(F.desc("count"), F.asc("word"))
        .write.mode("errorifexists")
        .parquet(output_path)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", help="Parquet corpus directory (column `text`)")
    parser.add_argument("output", help="output directory for the word/count Parquet (must not exist)")
    args = parser.parse_args(argv)
    spark = SparkSession.builder.appName("gutenberg-wordcount").getOrCreate()
    for key, value in SPLIT_DEFAULTS.items():
        if not spark.sparkContext.getConf().contains(key):
            spark.conf.set(key, value)
    try:
        run(spark, args.corpus, args.output)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
