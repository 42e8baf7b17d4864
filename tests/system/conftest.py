"""Fixtures of the system layer: one Hadoop mini cluster (HDFS and YARN) for the whole test session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.system.hadoop import cluster_command, start_cluster


@pytest.fixture(scope="session")
def hadoop_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """scripts/hadoop-cluster started once, from a folder of its own: the addresses start printed, plus
    `dir` (its --dir) and `cwd` (where it was started, which must stay empty)."""
    directory = tmp_path_factory.mktemp("hadoop-cluster")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    cluster = start_cluster(directory, cwd=elsewhere)
    yield {**cluster, "cwd": elsewhere}
    cluster_command(directory, "stop")
