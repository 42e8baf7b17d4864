"""Luigi tasks of gutenberg-wordcount: `luigi --module pipeline TopWordsSpark --local-scheduler`.

TopWordsMR (mrjob) and TopWordsHadoop (luigi.contrib.hadoop) count the same corpus with MapReduce.

Importing the package puts the project's conf/luigi.cfg first on Luigi's config path, so the defaults
apply without LUIGI_CONFIG_PATH while /etc/luigi/luigi.cfg, ./luigi.cfg and LUIGI_CONFIG_PATH still
override them.
"""

from pathlib import Path

from luigi.configuration import LuigiConfigParser

PROJECT_CONFIG = Path(__file__).resolve().parent.parent / "conf" / "luigi.cfg"

if PROJECT_CONFIG.is_file() and str(PROJECT_CONFIG) not in LuigiConfigParser._config_paths:
    LuigiConfigParser._config_paths.insert(0, str(PROJECT_CONFIG))
    LuigiConfigParser.reload()

from pipeline.mapreduce import (  # noqa: E402
    CorpusText,
    TopWordsHadoop,
    TopWordsMR,
    WordCountHadoop,
    WordCountMR,
)
from pipeline.tasks import (  # noqa: E402 - the config path must be in place before tasks read it
    CorpusParquet,
    DownloadBook,
    TopBooks,
    TopWords,
    TopWordsSpark,
    WordCountSpark,
)

__all__ = [
    "CorpusParquet",
    "CorpusText",
    "DownloadBook",
    "TopBooks",
    "TopWords",
    "TopWordsHadoop",
    "TopWordsMR",
    "TopWordsSpark",
    "WordCountHadoop",
    "WordCountMR",
    "WordCountSpark",
]
