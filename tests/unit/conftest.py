"""The unit layer needs nothing but Python. Starting Spark's JVM, running the pipeline's commands or opening
a listening socket here raises at once, so a unit test that comes to need one fails loudly instead of
quietly slowing the layer down: such a test belongs in tests/integration."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

# Executables a unit test may not start (git, python and other tools are fine).
NOT_IN_UNIT_TESTS = {"luigi", "luigid", "spark-submit", "spark-class", "pyspark", "java"}


class NotAUnitTestError(RuntimeError):
    """What a unit test did needs the integration or system layer."""


@pytest.fixture(autouse=True)
def nothing_but_python(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyspark.core import context  # where SparkContext, and so every SparkSession, starts the JVM

    def no_jvm(*args: object, **kwargs: object) -> None:
        raise NotAUnitTestError("a unit test started Spark's JVM: move it to tests/integration")

    monkeypatch.setattr(context, "launch_gateway", no_jvm)

    execute_child = subprocess.Popen._execute_child  # every subprocess API ends here

    def no_pipeline_commands(self: subprocess.Popen, args, executable, *rest):
        argv = [args] if isinstance(args, str | bytes | os.PathLike) else list(args)
        name = Path(os.fsdecode(executable or argv[0])).name
        if name in NOT_IN_UNIT_TESTS:
            raise NotAUnitTestError(f"a unit test ran {name}: move it to tests/integration")
        return execute_child(self, args, executable, *rest)

    monkeypatch.setattr(subprocess.Popen, "_execute_child", no_pipeline_commands)

    def no_server(self: socket.socket, *args: object) -> None:
        raise NotAUnitTestError("a unit test opened a listening socket: move it to tests/integration")

    monkeypatch.setattr(socket.socket, "listen", no_server)
