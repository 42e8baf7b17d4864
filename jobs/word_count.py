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
from textrules import APOSTROPHE_FROM, APOSTROPHE_TO, WORD_PATTERN


def words(text: Column) -> Column:
    """Every word of `text` per the text rules, as one array per row."""
    return F.regexp_extract_all(text, F.lit(WORD_PATTERN), 0)


def count_words(corpus: DataFrame) -> DataFrame:
    """`word`, `count` of every word in the corpus's `text` column."""
    tokens = corpus.select(F.explode(words(F.col("text"))).alias("token"))
    # Lowercase each token, not the whole text: final sigma depends on what follows inside the token.
    normalised = tokens.select(F.translate(F.lower("token"), APOSTROPHE_FROM, APOSTROPHE_TO).alias("word"))
    return normalised.groupBy("word").agg(F.count(F.lit(1)).cast("long").alias("count"))


def run(spark: SparkSession, corpus_path: str, output_path: str) -> None:
    """Read the corpus, count, and write a single sorted Parquet file."""
    counts = count_words(spark.read.parquet(corpus_path).select("text"))
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
    try:
        run(spark, args.corpus, args.output)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
