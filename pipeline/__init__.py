"""Luigi tasks of gutenberg-wordcount: `luigi --module pipeline TopWordsSpark --local-scheduler`.

TopWordsMR (mrjob) and TopWordsHadoop (luigi.contrib.hadoop) count the same corpus with MapReduce.

Importing the package puts the project's conf/luigi.cfg first on Luigi's config path, so the defaults
apply without LUIGI_CONFIG_PATH while /etc/luigi/luigi.cfg, ./luigi.cfg and LUIGI_CONFIG_PATH still
override them.

It also makes a bad command-line value one line on stderr, `ERROR: --n-books: 0 is not in [1, 1000000000]`,
instead of Luigi's traceback (see `OneLineParameterErrors`); nothing runs and `luigi` exits non-zero.
"""

import logging
import re
import sys
from pathlib import Path
from types import TracebackType

import luigi.parameter
from luigi.configuration import LuigiConfigParser

PROJECT_CONFIG = Path(__file__).resolve().parent.parent / "conf" / "luigi.cfg"

if PROJECT_CONFIG.is_file() and str(PROJECT_CONFIG) not in LuigiConfigParser._config_paths:
    LuigiConfigParser._config_paths.insert(0, str(PROJECT_CONFIG))
    LuigiConfigParser.reload()


def _cli_flag(tb: TracebackType | None) -> str | None:
    """`--name` of the task parameter Luigi's command-line parser was parsing when `tb` was raised."""
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "_get_task_kwargs" and isinstance(frame.f_locals.get("param_name"), str):
            return "--" + frame.f_locals["param_name"].replace("_", "-")
        tb = tb.tb_next
    return None


# The last line of the traceback Luigi logs when a task's complete() fails on a stop-word file that cannot
# be read (storage.stopwords_key, called by TopWords.output()).
_STOPWORDS_ERROR = re.compile(r"^ValueError: (stop-word file .*)$")


class OneLineParameterErrors(logging.Filter):
    """On the `luigi-interface` logger: a bad parameter value becomes one line on stderr, not a traceback.

    - `Uncaught exception in luigi` whose exception was raised while parsing a task parameter from the
      command line (a ValueError from the parameter's parse), or any luigi ParameterException (missing or
      unknown parameter): `ERROR: --name: message` or `ERROR: message`. luigi exits 40.
    - `Will not run ... due to error in complete() method` caused by an unreadable `--stopwords` file:
      `ERROR: --stopwords: stop-word file PATH: cause`. luigi exits 35 (scheduling error), nothing runs.

    Every other record passes unchanged, tracebacks included: those are bugs, not bad input.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        line = self.one_line(record)
        if line is None:
            return True
        print(line, file=sys.stderr, flush=True)
        return False

    @staticmethod
    def one_line(record: logging.LogRecord) -> str | None:
        message = record.getMessage()
        if message == "Uncaught exception in luigi" and record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text = " ".join(str(exc).split()) or type(exc).__name__
            flag = _cli_flag(exc.__traceback__)
            if flag is not None and isinstance(exc, ValueError | TypeError):
                return f"ERROR: {flag}: {text}"
            if isinstance(exc, luigi.parameter.ParameterException):
                return f"ERROR: {text}"
            return None
        if message.startswith("Will not run ") and "due to error in complete() method" in message:
            last = message.rstrip().rsplit("\n", 1)[-1]
            match = _STOPWORDS_ERROR.match(last)
            if match is not None:
                return f"ERROR: --stopwords: {match.group(1)}"
        return None


_interface_logger = logging.getLogger("luigi-interface")
if not any(isinstance(f, OneLineParameterErrors) for f in _interface_logger.filters):
    _interface_logger.addFilter(OneLineParameterErrors())

from pipeline.mapreduce import (  # noqa: E402
    CorpusText,
    TopWordsHadoop,
    TopWordsMR,
    WordCountHadoop,
    WordCountMR,
)
from pipeline.tasks import (  # noqa: E402 - the config path must be in place before tasks read it
    CatalogRecord,
    CorpusParquet,
    DownloadBook,
    TopBooks,
    TopWords,
    TopWordsSpark,
    WordCountSpark,
)
from pipeline.trend import TopWordsTrend  # noqa: E402

__all__ = [
    "CatalogRecord",
    "CorpusParquet",
    "CorpusText",
    "DownloadBook",
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
