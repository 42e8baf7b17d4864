"""Configuration sections of conf/luigi.cfg; each key is also a command-line flag (`--section-key`)."""

from __future__ import annotations

import luigi


class gutenberg(luigi.Config):  # noqa: N801 - Luigi names the config section after the class
    """Where and how politely Project Gutenberg is fetched."""

    base_url = luigi.Parameter(
        default="https://www.gutenberg.org",
        description="Gutenberg site or mirror, e.g. http://127.0.0.1:8765",
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


MRJOB_RUNNERS = ("inline", "local", "hadoop", "emr", "dataproc", "spark")


class mrjob(luigi.Config):  # noqa: N801
    """How WordCountMR runs jobs/mr_word_count.py."""

    runner = luigi.ChoiceParameter(
        choices=MRJOB_RUNNERS,
        default="local",
        description="mrjob runner (-r); its options come from conf_path",
    )
    conf_path = luigi.Parameter(default="", description="runner options file (default: conf/mrjob.conf)")
