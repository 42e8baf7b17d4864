"""What a person sees on the console: Luigi's scheduling chatter only with `--log-level DEBUG`, and one
line naming the task and the cause when a task fails (with Luigi's traceback too, unless the cause is a
fault of the site, of a stored file or of the storage: those are explained by the line itself).

The pipeline's own lines (a line per book, the Spark job's progress, warnings) come from child loggers of
`luigi-interface`, so Luigi's handler prints them at the level `--log-level` sets (INFO by default,
conf/luigi.cfg `[core] log_level`).
"""

from __future__ import annotations

import logging
import sys

import luigi

from pipeline.errors import SparkJobError, StorageUnavailableError
from pipeline.formats import DamagedOutputError
from pipeline.gutenberg import GutenbergError
from pipeline.luigi_internals import EXECUTION_SUMMARY, TASK_FAILED

LUIGI_LOGGER = "luigi-interface"
# Faults whose one-line cause (print_failure) says all there is to say: no traceback by default.
EXPLAINED_FAULTS = (GutenbergError, DamagedOutputError, StorageUnavailableError, SparkJobError)


class LuigiChatter(logging.Filter):
    """On the `luigi-interface` logger, unless the level is DEBUG: drops Luigi's own INFO records (task
    status, worker start and stop: about five lines per task) except the execution summary, and the
    traceback of a task that failed on an explained fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != LUIGI_LOGGER or record.levelno > logging.ERROR:
            return True
        if logging.getLogger(LUIGI_LOGGER).getEffectiveLevel() <= logging.DEBUG:
            return True
        if record.levelno == logging.ERROR:
            fault = record.exc_info[1] if record.exc_info else None
            return not (str(record.msg).startswith(TASK_FAILED) and isinstance(fault, EXPLAINED_FAULTS))
        if record.levelno > logging.INFO:
            return True
        return EXECUTION_SUMMARY in str(record.msg)


def install() -> None:
    """Add the filter once (importing the package twice must not add it twice)."""
    interface = logging.getLogger(LUIGI_LOGGER)
    if not any(isinstance(f, LuigiChatter) for f in interface.filters):
        interface.addFilter(LuigiChatter())


def one_line(exception: BaseException, limit: int = 1000) -> str:
    """An exception's message on one line, at most `limit` characters."""
    message = " ".join(str(exception).split()) or type(exception).__name__
    return message if len(message) <= limit else message[:limit] + "..."


@luigi.Task.event_handler(luigi.Event.FAILURE)
def print_failure(task: luigi.Task, exception: BaseException) -> None:
    """`ERROR: Task(params): cause` after Luigi's traceback: the line a person reads."""
    print(f"ERROR: {task}: {one_line(exception)}", file=sys.stderr, flush=True)
