"""Word count and per-book analysis of a Parquet corpus with Spark built-in functions (no Python UDFs).

Reads the `text` column of the corpus written by the pipeline's CorpusParquet task and writes one
Parquet file of `word` (string) and `count` (int64), sorted by count descending then word:

    spark-submit --py-files jobs.zip [--jars jobs.jar] jobs/word_count.py CORPUS_DIR OUTPUT_DIR
        [--analysis] [--per-book N] [--growth-points P] [--tokenizer auto|jvm|builtin]

where jobs.zip holds the `jobs` package (`zip -r jobs.zip jobs`; the pipeline builds it), so the driver
and every executor import `jobs.textrules`, and jobs.jar holds jobs/jvm's tokenizer (the pipeline
compiles it; README "Performance"). Both tokenizers count the same words: `jvm` (gutenberg.wordcount.
BookWords, counting inside each book) is the fast one; `builtin` (Spark's regexp_extract_all) needs no
jar; `auto`, the default, takes `jvm` when the jar is on the classpath.

With `--analysis` it also reads `book_id`, `rank` and `language` and writes, each as one Parquet file,
under OUTPUT_DIR/_analysis/ (the underscore keeps readers of OUTPUT_DIR as a dataset out of it):

    books/       book_id, rank, language, stopword_language, tokens, distinct_words, hapax_words;
                 by rank, book_id
    book_words/  book_id, list ("top" or "distinctive"), rank (1..N), word, count, tfidf; the book's
                 stop words left out; by book rank, book_id, list ("distinctive" first), rank
    growth/      tokens, distinct_words: distinct words among the first `tokens` tokens of the corpus
                 read in rank order, at about P points; by tokens

OUTPUT_DIR must not exist; the Luigi task passes a temporary path and renames it when the job succeeds.
CORPUS_DIR and OUTPUT_DIR may be any URI Spark reads and writes (local paths, file://, hdfs://).
Progress goes to stderr as `gutenberg-wordcount progress {percent}% {message}` lines.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO

from pyspark import SparkContext
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobs import textrules

# The corpus keeps one row group per book, so a part file splits at any book. Small splits and a small
# per-file cost spread even a few MB of books over every core, and at least SPLITS_PER_CORE splits a core
# keep the last wave of tasks short (5 splits of 32 MB on 2 cores left one core idle for a third of the
# 256 MiB count); set any of these properties to override.
SPLITS_PER_CORE = 4
SPLIT_DEFAULTS = {"spark.sql.files.maxPartitionBytes": "16m", "spark.sql.files.openCostInBytes": "1m"}
# The analysis caches the per-book word counts; without this the cache keeps spark.sql.shuffle.partitions
# partitions (AQE leaves a cached plan's output as it is) and every later stage over it runs that many tasks.
ANALYSIS_DEFAULTS = {"spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true"}

# A given schema spares Spark a job that reads every footer to infer one.
COUNT_COLUMNS = "text string"
ANALYSIS_COLUMNS = "book_id long, rank int, language string, text string"

ANALYSIS_DIR = "_analysis"
PER_BOOK_DEFAULT = 20
GROWTH_POINTS_DEFAULT = 100

TOKENIZERS = ("auto", "jvm", "builtin")
BOOK_WORDS_CLASS = "gutenberg.wordcount.BookWords"
BOOK_WORDS_FUNCTION = "gutenberg_book_words"
BOOK_WORDS_TYPE = "array<struct<word: string not null, count: bigint not null, first: bigint not null>>"

COUNT_STEP = "counting words"
ANALYSIS_STEPS = (COUNT_STEP, "per-book statistics", "book words", "vocabulary growth")
PROGRESS_PREFIX = "gutenberg-wordcount progress "
# Spark 4 no longer logs "Bound SparkUI ... started at <url>", the line Luigi's SparkSubmitTask looks for.
UI_PREFIX = "gutenberg-wordcount ui "
# A failure the job explains in one line (the pipeline shows that line instead of Spark's stderr).
ERROR_PREFIX = "gutenberg-wordcount error "
PROGRESS_INTERVAL_SECONDS = 0.5


def words(text: Column) -> Column:
    """Every word of `text` per the text rules (lowercased, `’` as `'`), as one array per row.

    The same shortcut as `textrules.words`: a text without a capital sigma is lowercased whole before
    matching (one pass, no per-token copies); a text with one is lowercased token by token, because
    final sigma depends on what follows inside the token. Both branches sit before the explode: a
    per-token condition on the text would be re-evaluated for every token.
    """
    text = F.replace(text, F.lit(textrules.APOSTROPHE_FROM), F.lit(textrules.APOSTROPHE_TO))
    pattern = F.lit(textrules.WORD_PATTERN)
    return F.when(
        F.instr(text, textrules.CONTEXT_CASED) > 0,
        F.transform(F.regexp_extract_all(text, pattern, 0), F.lower),
    ).otherwise(F.regexp_extract_all(F.lower(text), pattern, 0))


def register_book_words(spark: SparkSession) -> bool:
    """Register the JVM tokenizer as BOOK_WORDS_FUNCTION; False when its class is not on the classpath."""
    try:
        spark.udf.registerJavaFunction(BOOK_WORDS_FUNCTION, BOOK_WORDS_CLASS, BOOK_WORDS_TYPE)
    except Exception as error:  # py4j's error for a missing class; anything else is re-raised
        if "ClassNotFoundException" in str(error) or "Can not load class" in str(error):
            return False
        raise
    return True


def book_words_jvm(text: Column) -> Column:
    """`word`, `count`, `first` of every distinct word of `text`, by the registered JVM tokenizer."""
    return F.call_udf(BOOK_WORDS_FUNCTION, text)


def count_words(corpus: DataFrame, tokenizer: str = "builtin") -> DataFrame:
    """`word`, `count` of every word in the corpus's `text` column."""
    if tokenizer == "jvm":
        entries = corpus.select(F.inline(book_words_jvm(F.col("text"))))
        # Non-null like the builtin branch's count (sum over a non-empty group never is null).
        return entries.groupBy("word").agg(F.coalesce(F.sum("count"), F.lit(0)).cast("long").alias("count"))
    tokens = corpus.select(F.explode(words(F.col("text"))).alias("word"))
    return tokens.groupBy("word").agg(F.count(F.lit(1)).cast("long").alias("count"))


# --- per-book analysis ----------------------------------------------------------------------------------


def stopword_language(language: Column) -> Column:
    """The Spark stop-word list for a `Language:` value, as `textrules.stopword_language` gives (or null)."""
    # split always yields at least one element, so [0] exists (and is null for a null value).
    first = F.split(language, textrules.LANGUAGE_SEPARATOR)[0]
    names = F.create_map(*(F.lit(v) for pair in sorted(textrules.STOPWORD_LANGUAGES.items()) for v in pair))
    return names[F.lower(F.btrim(first, F.lit(textrules.LANGUAGE_BLANKS)))]


def load_stopwords(spark: SparkSession, names: Iterable[str] = textrules.SPARK_STOPWORD_LISTS) -> DataFrame:
    """`stopword_language`, `word`: Spark ML's default list for each name, normalised as tokens are.

    All lists together are some 2,500 rows: loading them all costs less than a query for the names in use.
    """
    # pyspark.ml needs numpy; only the analysis imports it, so the plain count does not.
    from pyspark.ml.feature import StopWordsRemover

    rows = sorted(
        {
            (name, textrules.normalize_word(word))
            for name in names
            for word in StopWordsRemover.loadDefaultStopWords(name)
        }
    )
    return spark.createDataFrame(rows, "stopword_language string, word string")


def book_word_counts(corpus: DataFrame, tokenizer: str = "builtin") -> DataFrame:
    """`book_id`, `word`, `count` (occurrences in the book), `first` (0-based token position of the first).

    The corpus holds one row per book, so the JVM tokenizer's per-row counts are the per-book ones.
    """
    if tokenizer == "jvm":
        return corpus.select("book_id", F.inline(book_words_jvm(F.col("text"))))
    tokens = corpus.select("book_id", F.posexplode(words(F.col("text"))).alias("pos", "word"))
    return tokens.groupBy("book_id", "word").agg(
        F.count(F.lit(1)).cast("long").alias("count"), F.min("pos").cast("long").alias("first")
    )


def book_stats(corpus: DataFrame, per_word: DataFrame) -> DataFrame:
    """The `books` table: one row per corpus row, with its token, distinct and hapax word counts."""
    stats = per_word.groupBy("book_id").agg(
        F.sum("count").alias("tokens"),
        F.count(F.lit(1)).alias("distinct_words"),
        F.count_if(F.col("count") == 1).alias("hapax_words"),
    )
    meta = corpus.select(
        "book_id", "rank", "language", stopword_language(F.col("language")).alias("stopword_language")
    )
    # A book without a word has no row in `stats`: its counts are 0, not null.
    return meta.join(stats, "book_id", "left").select(
        "book_id",
        "rank",
        "language",
        "stopword_language",
        *(F.coalesce(c, F.lit(0)).cast("long").alias(c) for c in ("tokens", "distinct_words", "hapax_words")),
    )


def book_words(per_word: DataFrame, books: DataFrame, stopwords: DataFrame, per_book: int) -> DataFrame:
    """`book_id`, `list`, `rank`, `word`, `count`, `tfidf`, plus `book_rank` to sort by: each book's
    `per_book` most frequent ("top") and highest tf-idf ("distinctive") words that are not its stop words.
    """
    # Document frequency counts every book holding the word, stop words or not.
    df = per_word.groupBy("word").agg(F.count(F.lit(1)).alias("df"))
    n_books = books.agg(F.count(F.lit(1)).alias("n_books"))
    book = books.select("book_id", F.col("rank").alias("book_rank"), "stopword_language", "tokens")
    # A null stopword_language equals nothing, so the anti-join keeps every word of such a book.
    kept = (
        per_word.join(book, "book_id")
        .join(stopwords, ["stopword_language", "word"], "left_anti")
        .join(df, "word")
        .crossJoin(F.broadcast(n_books))
        .withColumn("tfidf", (F.col("count") / F.col("tokens")) * F.ln(F.col("n_books") / F.col("df")))
    )
    by_book = Window.partitionBy("book_id")
    top = F.row_number().over(by_book.orderBy(F.desc("count"), F.asc("word")))
    # Words with a tf-idf of 0 sort last, so the ranks of the others run from 1 without them.
    positive = F.col("tfidf") > 0
    distinctive = F.row_number().over(by_book.orderBy(F.desc(positive), F.desc("tfidf"), F.asc("word")))
    # Both windows share one shuffle by book; each row then yields one entry per list it is in.
    ranked = kept.select(
        "book_rank", "book_id", "word", "count", "tfidf", top.alias("top"), distinctive.alias("d")
    )
    entries = F.array_compact(
        F.array(
            F.when(
                F.col("top") <= per_book, F.struct(F.lit("top").alias("list"), F.col("top").alias("rank"))
            ),
            F.when(
                positive & (F.col("d") <= per_book),
                F.struct(F.lit("distinctive").alias("list"), F.col("d").alias("rank")),
            ),
        )
    )
    return ranked.select(
        "book_rank", "book_id", F.explode(entries).alias("entry"), "word", "count", "tfidf"
    ).select("book_rank", "book_id", "entry.list", "entry.rank", "word", "count", "tfidf")


def growth(per_word: DataFrame, books: DataFrame, growth_points: int) -> DataFrame:
    """`tokens`, `distinct_words`: vocabulary growth over the books in (rank, book_id) order.

    With T tokens and step = ceil(T / growth_points), the points are every multiple of step below T and T.
    A word is among the first t tokens when its first global position is below t, so the distinct words at
    t = (b + 1) * step are the words whose first position falls in a bucket (first // step) up to b.
    """
    spark = per_word.sparkSession
    earlier = Window.orderBy("rank", "book_id").rowsBetween(Window.unboundedPreceding, -1)
    offsets = books.select("book_id", F.coalesce(F.sum("tokens").over(earlier), F.lit(0)).alias("offset"))
    firsts = (
        per_word.join(offsets, "book_id")
        .groupBy("word")
        .agg(F.min(F.col("offset") + F.col("first")).alias("first"))
    )
    total = F.col("total")
    # No step for an empty corpus (T = 0), so nothing divides by zero. The double divisions are exact
    # enough for ceil and floor while T < 2**53.
    totals = (
        books.agg(F.coalesce(F.sum("tokens"), F.lit(0)).cast("long").alias("total"))
        .withColumn("step", F.when(total > 0, F.ceil(total / growth_points)))
        .withColumn("buckets", F.when(total > 0, F.ceil(total / F.col("step"))).otherwise(0))
    )
    new_words = (
        firsts.crossJoin(F.broadcast(totals))
        .groupBy(F.floor(F.col("first") / F.col("step")).alias("bucket"))
        .agg(F.count(F.lit(1)).alias("new_words"))
    )
    # buckets <= growth_points, so a range of that many covers them, including buckets with no new word.
    cumulative = Window.orderBy("bucket").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    return (
        spark.range(growth_points)
        .withColumnRenamed("id", "bucket")
        .crossJoin(F.broadcast(totals))
        .where(F.col("bucket") < F.col("buckets"))
        .join(new_words, "bucket", "left")
        .select(
            F.least((F.col("bucket") + 1) * F.col("step"), total).cast("long").alias("tokens"),
            F.sum(F.coalesce("new_words", F.lit(0))).over(cumulative).cast("long").alias("distinct_words"),
        )
    )


def analyse(
    corpus: DataFrame,
    stopwords: DataFrame,
    per_book: int = PER_BOOK_DEFAULT,
    growth_points: int = GROWTH_POINTS_DEFAULT,
    tokenizer: str = "builtin",
) -> dict[str, DataFrame]:
    """`counts` (as `count_words`), `books`, `book_words` (with `book_rank`) and `growth` of a corpus of
    `book_id`, `rank`, `language`, `text`, with `stopwords` as `load_stopwords` gives them.

    The text is tokenized once: the per-book counts are cached and every table derives from them.
    """
    per_word = book_word_counts(corpus, tokenizer).cache()
    books = book_stats(corpus, per_word).cache()
    # Non-null like count_words' count, so both write the same Parquet schema.
    counts = per_word.groupBy("word").agg(F.coalesce(F.sum("count"), F.lit(0)).cast("long").alias("count"))
    return {
        "counts": counts,
        "books": books,
        "book_words": book_words(per_word, books, stopwords, per_book),
        "growth": growth(per_word, books, growth_points),
    }


# --- progress -------------------------------------------------------------------------------------------


class Progress:
    """Prints `PROGRESS_PREFIX{percent}% {message}` lines for a fixed list of steps, each a Spark job group.

    A daemon thread polls the status tracker: percent is 100 * (steps done + the fraction of tasks done in
    the current step's stages) / steps, never decreasing, and a line is printed only when it changes.
    """

    def __init__(
        self,
        sc: SparkContext,
        steps: Sequence[str],
        stream: TextIO | None = None,  # None: spark-submit's stderr
        interval: float = PROGRESS_INTERVAL_SECONDS,
    ) -> None:
        self._sc = sc
        self._tracker = sc.statusTracker()
        self._steps = tuple(steps)
        self._stream = stream
        self._interval = interval
        self._lock = threading.Lock()
        self._index = -1
        self._percent = 0
        self._last: tuple[int, str] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll_loop, name="wordcount-progress", daemon=True)

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._stop.set()
        self._thread.join()
        if exc_type is None:
            with self._lock:
                self._print(100, "done")

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Run the block's Spark jobs as the next step, `name` (one of the steps given)."""
        index = self._steps.index(name)
        # Job groups are per thread (pinned threads): the main thread's actions carry it.
        self._sc.setJobGroup(self._group(index), f"step {index + 1}/{len(self._steps)} {name}")
        with self._lock:
            self._index = index
            self._update(index, 0, 0)
        yield

    def _group(self, index: int) -> str:
        return f"gutenberg-wordcount-step-{index + 1}"

    def _poll_loop(self) -> None:
        while not self._stop.wait(self._interval):
            # The tracker may fail (stage info gone, the JVM stopping); progress must never fail the job.
            with contextlib.suppress(Exception):
                self._poll()

    def _poll(self) -> None:
        with self._lock:
            index = self._index
        if index < 0:
            return
        done, total = self._tasks(self._group(index))
        with self._lock:
            if index == self._index:
                self._update(index, done, total)

    def _tasks(self, group: str) -> tuple[int, int]:
        """Tasks done and tasks in all stages of the group's jobs so far."""
        stages: dict[int, tuple[int, int]] = {}
        for job_id in self._tracker.getJobIdsForGroup(group):
            job = self._tracker.getJobInfo(job_id)
            if job is None:
                continue
            for stage_id in list(job.stageIds):
                stage = self._tracker.getStageInfo(stage_id)
                if stage is None:
                    continue
                # A finished job's skipped stages (shuffle output reused) never run a task, yet are done.
                done = stage.numTasks if job.status == "SUCCEEDED" else stage.numCompletedTasks
                stages[stage_id] = (max(done, stages.get(stage_id, (0, 0))[0]), stage.numTasks)
        return sum(d for d, _ in stages.values()), sum(t for _, t in stages.values())

    def _update(self, index: int, done: int, total: int) -> None:
        steps = len(self._steps)
        fraction = done / total if total else 0.0
        # 100% is kept for "done": the last step's jobs may finish before its write returns.
        percent = max(self._percent, min(99, int(100 * (index + fraction) / steps)))
        self._print(percent, f"step {index + 1}/{steps} {self._steps[index]}: {done}/{total} tasks")

    def _print(self, percent: int, message: str) -> None:
        if (percent, message) == self._last:
            return
        self._percent, self._last = percent, (percent, message)
        line = f"{PROGRESS_PREFIX}{percent}% {message}"
        if self._stream is not None:
            print(line, file=self._stream, flush=True)
        else:
            # spark-submit relays the Python driver's stdout and stderr together to its own stdout; the
            # JVM's System.err is spark-submit's stderr, beside the log, where the Luigi task reads.
            self._sc._jvm.java.lang.System.err.println(line)


# --- the job --------------------------------------------------------------------------------------------


def write_one_file(
    frame: DataFrame,
    path: str,
    order: Sequence[Column | str],
    shuffle: bool = False,
    drop: Sequence[str] = (),
) -> None:
    """Write `frame` as a single Parquet file sorted by `order`, without the `drop` columns.

    `shuffle` moves only the result to one task; coalesce(1) also pulls the stage computing it into that
    task, which suits a final aggregation but not a window over every word of every book.
    """
    single = frame.repartition(1) if shuffle else frame.coalesce(1)
    # Dropping after the sort is a projection, which keeps the order.
    single.sortWithinPartitions(*order).drop(*drop).write.mode("errorifexists").parquet(path)


def run(
    spark: SparkSession,
    corpus_path: str,
    output_path: str,
    *,
    analysis: bool = False,
    per_book: int = PER_BOOK_DEFAULT,
    growth_points: int = GROWTH_POINTS_DEFAULT,
    tokenizer: str = "builtin",
    progress: Progress | None = None,
) -> None:
    """Read the corpus, count, and write a single sorted Parquet file; with `analysis`, the tables too."""

    def step(name: str) -> contextlib.AbstractContextManager[None]:
        return progress.step(name) if progress is not None else contextlib.nullcontext()

    count_order = [F.desc("count"), F.asc("word")]
    if not analysis:
        with step(COUNT_STEP):
            counts = count_words(spark.read.schema(COUNT_COLUMNS).parquet(corpus_path), tokenizer)
            write_one_file(counts, output_path, count_order)
        return
    corpus = spark.read.schema(ANALYSIS_COLUMNS).parquet(corpus_path)
    base = f"{output_path.rstrip('/')}/{ANALYSIS_DIR}"
    with step(ANALYSIS_STEPS[0]):
        tables = analyse(corpus, load_stopwords(spark), per_book, growth_points, tokenizer)
        write_one_file(tables["counts"], output_path, count_order)
    with step(ANALYSIS_STEPS[1]):
        write_one_file(tables["books"], f"{base}/books", ["rank", "book_id"])
    with step(ANALYSIS_STEPS[2]):
        order = ["book_rank", "book_id", "list", "rank"]
        write_one_file(tables["book_words"], f"{base}/book_words", order, shuffle=True, drop=["book_rank"])
    with step(ANALYSIS_STEPS[3]):
        write_one_file(tables["growth"], f"{base}/growth", ["tokens"])


def unseen_local_paths(spark: SparkSession, paths: Sequence[str]) -> list[str]:
    """The file: paths among `paths` that an executor cannot see. Executors on other hosts read and write
    file: paths on their own disks: a missing input fails the job with a long trace, and a missing output
    directory would be committed empty by the driver. A check of a few tasks, not in the hot path."""
    import urllib.parse

    local = [urllib.parse.urlsplit(p).path for p in paths if p.startswith("file:")]
    context = spark.sparkContext
    if not local or context.master.startswith("local"):
        return []
    slots = max(context.defaultParallelism, 2)

    def missing(_: object) -> list[str]:
        import os

        return [path for path in local if not os.path.exists(path)]

    return sorted(set(context.parallelize(range(slots), slots).flatMap(missing).collect()))


def positive_int(text: str) -> int:
    """`text` as an int of at least 1 (an argparse type)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "corpus",
        help="Parquet corpus directory (column `text`; with --analysis also `book_id`, `rank`, `language`)",
    )
    parser.add_argument("output", help="output directory for the word/count Parquet (must not exist)")
    parser.add_argument(
        "--analysis", action="store_true", help=f"also write the per-book tables under OUTPUT/{ANALYSIS_DIR}/"
    )
    parser.add_argument(
        "--per-book",
        type=positive_int,
        default=PER_BOOK_DEFAULT,
        metavar="N",
        help="words in each book's top and distinctive lists (default %(default)s)",
    )
    parser.add_argument(
        "--growth-points",
        type=positive_int,
        default=GROWTH_POINTS_DEFAULT,
        metavar="P",
        help="at most this many points of vocabulary growth (default %(default)s)",
    )
    parser.add_argument(
        "--tokenizer",
        choices=TOKENIZERS,
        default="auto",
        help=f"jvm ({BOOK_WORDS_CLASS}, from --jars), builtin (Spark's regex functions) or auto: jvm when"
        " the class is on the classpath (default %(default)s)",
    )
    args = parser.parse_args(argv)
    spark = SparkSession.builder.appName("gutenberg-wordcount").getOrCreate()
    defaults = {
        **SPLIT_DEFAULTS,
        "spark.sql.files.minPartitionNum": str(SPLITS_PER_CORE * spark.sparkContext.defaultParallelism),
        **(ANALYSIS_DEFAULTS if args.analysis else {}),
    }
    for key, value in defaults.items():
        if not spark.sparkContext.getConf().contains(key):
            spark.conf.set(key, value)
    unseen = unseen_local_paths(spark, [args.corpus])
    if unseen:
        # On spark-submit's stderr (the Python driver's own stderr goes to spark-submit's stdout).
        spark.sparkContext._jvm.java.lang.System.err.println(
            f"{ERROR_PREFIX}{unseen[0]} is not visible to the Spark executors ({spark.sparkContext.master}): "
            "a local storage root needs a local master or a file system every Spark host mounts at the "
            "same path; use an hdfs:// storage root"
        )
        spark.stop()
        return 3
    tokenizer = args.tokenizer
    if tokenizer != "builtin":
        if register_book_words(spark):
            tokenizer = "jvm"
        elif tokenizer == "jvm":
            spark.sparkContext._jvm.java.lang.System.err.println(
                f"{ERROR_PREFIX}--tokenizer jvm: {BOOK_WORDS_CLASS} is not on the classpath (pass --jars)"
            )
            spark.stop()
            return 2
        else:
            tokenizer = "builtin"
    steps = ANALYSIS_STEPS if args.analysis else (COUNT_STEP,)
    if spark.sparkContext.uiWebUrl:
        # On spark-submit's stderr, like the progress lines (see Progress._print).
        spark.sparkContext._jvm.java.lang.System.err.println(UI_PREFIX + spark.sparkContext.uiWebUrl)
    try:
        with Progress(spark.sparkContext, steps) as progress:
            run(
                spark,
                args.corpus,
                args.output,
                analysis=args.analysis,
                per_book=args.per_book,
                growth_points=args.growth_points,
                tokenizer=tokenizer,
                progress=progress,
            )
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
