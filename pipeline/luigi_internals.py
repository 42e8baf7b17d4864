"""The few places where no public Luigi API does the job, written against luigi 3.8.1.

- `use_project_config`: Luigi reads /etc/luigi/luigi.cfg, ./luigi.cfg and $LUIGI_CONFIG_PATH, in that
  order of precedence, from `LuigiConfigParser._config_paths` (a private list). The packaged
  conf/luigi.cfg goes first in that list, so it holds the defaults and every one of those overrides it.
- `OneLineParameterErrors`: Luigi logs a bad command-line value as "Uncaught exception in luigi" with a
  traceback. The flag being parsed is found from the frame of `_get_task_kwargs` (luigi/cmdline_parser.py).
- `import_contrib_hadoop`: the luigi 3.7 and 3.8 wheels lack `luigi.contrib.mrrunner`, which
  luigi.contrib.hadoop imports and ships to Hadoop streaming nodes.
- `ignore_raw_hadoop_keys`: luigi.contrib.hadoop reads `[hadoop] command`, `streaming_jar` and
  `python_executable` with `configuration.get()`, not as parameters of its `hadoop` Config, which then
  warns that each is "not consumed by the task 'hadoop'" (luigi/task.py).
- `EXECUTION_SUMMARY`, `TASK_FAILED`: how Luigi's own log records are told apart (pipeline/console.py):
  the execution summary's banner and the format of a failed task's traceback record.

tests/unit/test_luigi_internals.py fails when a Luigi release changes any of these under us.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import re
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, TracebackType

import luigi.parameter
from luigi.configuration import LuigiConfigParser

LUIGI_VERSION = "3.8.1"
# The banner of luigi/execution_summary.py's summary, and the start of the format luigi/worker.py logs a
# failed task's exception with.
EXECUTION_SUMMARY = "===== Luigi Execution Summary ====="
TASK_FAILED = "[pid %s] Worker %s failed"


def use_project_config(path: Path) -> None:
    """Put `path` first (lowest precedence) on Luigi's config path and reload, once."""
    if path.is_file() and str(path) not in LuigiConfigParser._config_paths:
        LuigiConfigParser._config_paths.insert(0, str(path))
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


def install_one_line_errors() -> None:
    interface = logging.getLogger("luigi-interface")
    if not any(isinstance(f, OneLineParameterErrors) for f in interface.filters):
        interface.addFilter(OneLineParameterErrors())


class _DropMessages(logging.Filter):
    def __init__(self, *prefixes: str) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefixes)


@contextlib.contextmanager
def quiet(logger_name: str, *prefixes: str) -> Iterator[None]:
    """Drop the records of `logger_name` whose message starts with one of `prefixes`, inside the block."""
    log_filter = _DropMessages(*prefixes)
    logger = logging.getLogger(logger_name)
    logger.addFilter(log_filter)
    try:
        yield
    finally:
        logger.removeFilter(log_filter)


# luigi.contrib.hadoop imports the S3 and GCS targets, which warn at import about cloud SDKs this project
# never uses; every `luigi --module pipeline` run would print those warnings.
CLOUD_IMPORT_WARNINGS = ("Loading S3 module", "Loading GCP module", "Loading GCS module")


RAW_HADOOP_KEYS = ("command", "streaming_jar", "streaming-jar", "python_executable", "python-executable",
                   "version", "scheduler")  # fmt: skip


def ignore_raw_hadoop_keys() -> None:
    """No UnconsumedParameterWarning for the `[hadoop]` keys luigi.contrib.hadoop reads by itself."""
    keys = "|".join(re.escape(key) for key in RAW_HADOOP_KEYS)
    unconsumed = rf"The configuration contains the parameter '(?:{keys})' with value .* "
    unconsumed += "that is not consumed by the task 'hadoop'\\."
    warnings.filterwarnings(
        "ignore",
        message=unconsumed,
        category=luigi.parameter.UnconsumedParameterWarning,
    )


def import_contrib_hadoop(stand_in: ModuleType) -> ModuleType:
    """luigi.contrib.hadoop, with `stand_in` registered as luigi.contrib.mrrunner when luigi lacks it."""
    try:
        importlib.import_module("luigi.contrib.mrrunner")
    except ModuleNotFoundError:
        sys.modules["luigi.contrib.mrrunner"] = stand_in
    with quiet("luigi-interface", *CLOUD_IMPORT_WARNINGS):
        return importlib.import_module("luigi.contrib.hadoop")
