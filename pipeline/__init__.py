"""Luigi tasks of gutenberg-wordcount: `luigi --module pipeline TopWordsSpark --local-scheduler`.

    fetch: TopBooks -> DownloadBook x N      corpus: CorpusParquet, CorpusText
    spark: WordCountSpark -> TopWordsSpark   mapreduce: WordCountMR -> TopWordsMR,
                                                        WordCountHadoop -> TopWordsHadoop

Importing the package puts the packaged conf/luigi.cfg first on Luigi's config path (so /etc/luigi/luigi.cfg,
./luigi.cfg and LUIGI_CONFIG_PATH override it), turns a bad command-line value into one line
`ERROR: --n-books: 0 is not in [1, 1000000000]` (pipeline/luigi_internals.py), and keeps Luigi's
scheduling chatter for `--log-level DEBUG` (pipeline/console.py).
"""

from pipeline import console, luigi_internals
from pipeline.config import LUIGI_CFG

# Before any task module: tasks read their defaults from the config when they are instantiated.
luigi_internals.use_project_config(LUIGI_CFG)
luigi_internals.install_one_line_errors()
luigi_internals.ignore_raw_hadoop_keys()
console.install()

from pipeline.corpus import CorpusParquet, CorpusText  # noqa: E402
from pipeline.fetch import CatalogRecord, DownloadBook, TopBooks  # noqa: E402
from pipeline.mapreduce import TopWordsHadoop, TopWordsMR, WordCountHadoop, WordCountMR  # noqa: E402
from pipeline.spark import SparkClassArchive, TopWordsSpark, WordCountSpark  # noqa: E402
from pipeline.timings import record_timing  # noqa: E402, F401 - registers the PROCESSING_TIME handler
from pipeline.topwords import TopWords  # noqa: E402
from pipeline.trend import TopWordsTrend  # noqa: E402

__all__ = [
    "CatalogRecord",
    "CorpusParquet",
    "CorpusText",
    "DownloadBook",
    "SparkClassArchive",
    "TopBooks",
    "TopWords",
    "TopWordsHadoop",
    "TopWordsMR",
    "TopWordsSpark",
    "TopWordsTrend",
    "WordCountHadoop",
    "WordCountMR",
    "WordCountSpark",
]
