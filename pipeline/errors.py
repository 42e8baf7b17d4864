"""Faults of the storage under the pipeline, raised with a message a person can act on."""

from __future__ import annotations


class StorageUnavailableError(OSError):
    """A file system (an HDFS NameNode or DataNode) could not be reached. The message names the output's
    path, what was being done, and which server failed why; nothing was written in its place."""


class SparkJobError(RuntimeError):
    """The Spark job stopped on a fault it explained in one line (jobs/word_count.py's ERROR_PREFIX)."""
