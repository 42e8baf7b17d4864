"""Fixtures every layer may use: the Gutenberg mirror over loopback HTTP, one local Spark session,
spark-submit with a call log, the zipped jobs package. The helpers behind them are in tests/support.py."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import JOBS, MirrorServer, mirror_dir


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
