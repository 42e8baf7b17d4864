"""Configuration: the luigi.Config sections of conf/luigi.cfg (the one place defaults live) and the files
the package carries at run time.

Each key is also a command-line flag (`--section-key`). conf/ is installed inside the package as
pipeline/conf/ (pyproject.toml maps it), so a wheel finds the same files a checkout does.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import luigi

import jobs

JOBS_DIR = Path(jobs.__file__).resolve().parent
# A wheel has pipeline/conf/; a checkout (and an editable install) has conf/ beside pipeline/.
_PACKAGED_CONF = Path(__file__).resolve().parent / "conf"
CONF_DIR = _PACKAGED_CONF if _PACKAGED_CONF.is_dir() else Path(__file__).resolve().parent.parent / "conf"
LUIGI_CFG = CONF_DIR / "luigi.cfg"
LOG4J_CONF = CONF_DIR / "log4j2.properties"
MRJOB_CONF = CONF_DIR / "mrjob.conf"


class gutenberg(luigi.Config):  # noqa: N801 - Luigi names the config section after the class
    """Where and how politely Project Gutenberg is fetched."""

    base_url = luigi.Parameter(
        default="https://www.gutenberg.org",
        description="Gutenberg site the top-books page comes from, e.g. http://127.0.0.1:8765",
    )
    mirrors = luigi.Parameter(
        default="https://gutenberg.pglaf.org, https://aleph.gutenberg.org",
        description="where book texts and catalogue records come from, in order: 'URL [epub|numbered|site]',"
        "...; empty or none: everything from base_url",
    )
    delay_seconds = luigi.FloatParameter(default=2.0, description="pause between requests to the same host")
    user_agent = luigi.Parameter(
        default="gutenberg-wordcount/0.1 (word-frequency research pipeline; Luigi + Spark)",
        description="User-Agent header sent with every request",
    )
    connect_timeout = luigi.FloatParameter(default=10.0, description="seconds to wait for a connection")
    read_timeout = luigi.FloatParameter(default=60.0, description="seconds to wait between bytes received")
    max_attempts = luigi.IntParameter(default=5, description="attempts per URL on timeouts, resets, 5xx, 429")
    backoff_seconds = luigi.FloatParameter(default=1.0, description="first retry pause; doubles each retry")
    max_backoff_seconds = luigi.FloatParameter(default=120.0, description="cap on one pause, Retry-After too")
    max_bytes = luigi.IntParameter(default=64 * 1024 * 1024, description="largest response body accepted")
    max_seconds = luigi.FloatParameter(
        default=300.0, description="longest one download may take, first request to last byte"
    )
    allowed_hosts = luigi.Parameter(
        default="",
        description="hosts besides base_url's that may be fetched or redirected to: host[:port],...",
    )


class storage(luigi.Config):  # noqa: N801
    """Where every output lives."""

    root = luigi.Parameter(default="data", description="root of all outputs: a local path or hdfs://...")


class spark(luigi.Config):  # noqa: N801 - the same section luigi.contrib.spark reads
    """spark-submit settings; luigi.contrib.spark reads the same [spark] section."""

    spark_submit = luigi.Parameter(default="", description="spark-submit path (default: beside python)")
    master = luigi.Parameter(default="local[*]", description="local[*], spark://host:7077, yarn, k8s://...")
    deploy_mode = luigi.Parameter(default="", description="client or cluster")
    conf = luigi.Parameter(default="", description="extra Spark properties, k=v|k2=v2")
    driver_memory = luigi.Parameter(default="", description="e.g. 2g")
    executor_memory = luigi.Parameter(default="", description="e.g. 2g")
    py_files = luigi.Parameter(default="", description="extra comma-separated --py-files")
    log_level = luigi.Parameter(default="WARN", description="Spark's log4j root level")
    java_options = luigi.Parameter(
        default="", description="extra driver JVM options, e.g. -XX:+UseParallelGC"
    )
    class_data_sharing = luigi.BoolParameter(
        default=True,
        parsing=luigi.BoolParameter.EXPLICIT_PARSING,
        description="map the driver's class archive (made once by SparkClassArchive) into local drivers",
    )
    tokenizer = luigi.ChoiceParameter(
        choices=("auto", "jvm", "builtin"),
        default="auto",
        description="jvm: jobs/jvm's tokenizer, compiled by the JDK's javac; builtin: Spark's regex "
        "functions; auto: jvm when a javac is found",
    )

    def submit_binary(self) -> str:
        """`spark_submit`, else the installed pyspark's own bin/spark-submit, else the one on PATH."""
        if self.spark_submit:
            return self.spark_submit
        home = pyspark_home()
        if home is not None and (Path(home) / "bin" / "spark-submit").is_file():
            return str(Path(home) / "bin" / "spark-submit")
        return shutil.which("spark-submit") or "spark-submit"

    def driver_java_options(self) -> str:
        """The packaged log4j2 setup at `log_level`, plus `java_options`: for every spark-submit."""
        options = f"-Dlog4j2.configurationFile={LOG4J_CONF.as_uri()} -Dgutenberg.log.level={self.log_level}"
        return f"{options} {self.java_options}".strip()


def pyspark_home() -> str | None:
    """The installed pyspark package's folder (a Spark distribution: bin/, jars/), found without
    importing it."""
    found = importlib.util.find_spec("pyspark")
    if found is None or not found.submodule_search_locations:
        return None
    return next(iter(found.submodule_search_locations))


def spark_environment() -> dict[str, str]:
    """SPARK_HOME for spark-submit: the installed pyspark's, unless the environment sets one.

    pyspark's spark-submit script otherwise asks the first `python3` on PATH where pyspark is, which
    fails when the venv is not activated (cron, a service, a venv's `luigi` called by its path).
    """
    home = pyspark_home()
    if os.environ.get("SPARK_HOME") or home is None:
        return {}
    return {"SPARK_HOME": home}


MRJOB_RUNNERS = ("inline", "local", "hadoop", "emr", "dataproc", "spark")


class mrjob(luigi.Config):  # noqa: N801
    """How WordCountMR runs jobs/mr_word_count.py."""

    runner = luigi.ChoiceParameter(
        choices=MRJOB_RUNNERS,
        default="local",
        description="mrjob runner (-r); its options come from conf_path",
    )
    conf_path = luigi.Parameter(default="", description="runner options file (default: conf/mrjob.conf)")

    def conf_file(self) -> str:
        return self.conf_path or str(MRJOB_CONF)
