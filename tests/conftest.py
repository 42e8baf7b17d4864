"""Fixtures every layer may use: the Gutenberg mirror over loopback HTTP, one local Spark session,
spark-submit with a call log, the zipped jobs package. The helpers behind them are in tests/support.py."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import JOBS, REPO, MirrorServer, mirror_dir

# The test files that take longest, longest first (seconds of one worker in CI's JUnit report,
# .ci-junit.xml, on 2026-12-01: from 604 s down to 38 s). pyproject.toml turns off xdist's own order (the
# files with the most tests first, which left the one-test container files for last) and xdist hands out
# files as workers free up, so in this order no long file starts while the other worker is nearly done.
# The rest follow in collection order.
LONGEST_FIRST = (
    "tests/system/test_container_spark.py",
    "tests/system/test_hadoop_pipeline.py",
    "tests/integration/test_word_count_analysis.py",
    "tests/system/test_benchmark.py",
    "tests/integration/test_word_count.py",
    "tests/system/test_deploy.py",
    "tests/system/test_hadoop_faults.py",
    "tests/integration/test_mapreduce.py",
    "tests/system/test_two_hosts.py",
    "tests/integration/test_trend.py",
    "tests/integration/test_class_archive.py",
    "tests/system/test_container_pipeline.py",
    "tests/system/test_container_compose.py",
    "tests/integration/test_end_to_end.py",
    "tests/system/test_package.py",
    "tests/integration/test_crashes.py",
    "tests/integration/test_tokenizers.py",
    "tests/system/test_hadoop_cluster.py",
    "tests/integration/test_faults.py",
    "tests/system/test_report_browser.py",
    "tests/system/test_visualiser.py",
    "tests/integration/test_bad_input.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The items of LONGEST_FIRST's files first, in its order (a stable sort: each file's own order stays)."""
    missing = [path for path in LONGEST_FIRST if not (REPO / path).is_file()]
    assert not missing, f"LONGEST_FIRST names files that do not exist: {missing}"
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


@pytest.fixture
def mirror() -> Iterator[MirrorServer]:
    """The shared Gutenberg mirror served on a free loopback port."""
    with MirrorServer(mirror_dir()) as server:
        yield server


@pytest.fixture
def http_server() -> Iterator[MirrorServer]:
    """An empty loopback server: every path 404 unless overridden."""
    with MirrorServer(Path("/nonexistent-gutenberg-root")) as server:
        yield server


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for every Spark test, with the JVM tokenizer (jobs/jvm) registered."""
    from pyspark.sql import SparkSession

    from jobs import word_count
    from pipeline.jvm import jobs_jar

    jar = jobs_jar()
    assert jar, "no javac: the tests need a JDK to build jobs/jvm"
    session = (
        SparkSession.builder.master("local[2]")
        .appName("gutenberg-wordcount-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.jars", jar)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    assert word_count.register_book_words(session)
    yield session
    session.stop()


@pytest.fixture
def spark_submit_log(tmp_path: Path) -> tuple[Path, Path]:
    """A spark-submit wrapper that logs each call then runs the real one: (wrapper, log)."""
    real = Path(sys.executable).parent / "spark-submit"
    real_path = str(real) if real.exists() else shutil.which("spark-submit")
    assert real_path, "spark-submit not found beside python or on PATH"
    log = tmp_path / "spark-submit.log"
    wrapper = tmp_path / "spark-submit-logged"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{real_path}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, log


@pytest.fixture
def jobs_zip(tmp_path: Path) -> Path:
    """The `jobs` package zipped as the job's docstring says (`zip -r jobs.zip jobs`)."""
    return Path(shutil.make_archive(str(tmp_path / "jobs"), "zip", root_dir=JOBS.parent, base_dir="jobs"))
