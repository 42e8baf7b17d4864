"""Case 1 of the containers: the local-mode Spark tests of the integration layer pass inside the image
(docker/build-offline) exactly as outside: the same tests, every one passed, read from the container's
JUnit report."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support import REPO
from tests.system.containers import image, mirror_volume, podman

pytestmark = pytest.mark.container

SELECTION = ["-m", "spark", "tests/integration"]
NO_CACHE = ["-p", "no:cacheprovider"]


def junit_key(nodeid: str) -> tuple[str, str]:
    """A pytest node id as JUnit's (classname, name): a/b.py::C::t[x] is (a.b.C, t[x])."""
    path, *inner, name = nodeid.split("::")
    return ".".join([path.removesuffix(".py").replace("/", "."), *inner]), name


def outcomes(report: Path) -> dict[tuple[str, str], str]:
    """(classname, name) -> passed, failed, error or skipped, from a JUnit XML report."""
    found = {}
    for case in ET.parse(report).iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        found[case.get("classname"), case.get("name")] = (
            {"failure": "failed"}.get(kinds[0], kinds[0]) if kinds else "passed"
        )
    return found


def test_local_spark_integration_tests_pass_in_the_container_as_outside(tmp_path: Path) -> None:
    name = image()
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", *NO_CACHE, *SELECTION],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    outside = {junit_key(line) for line in collected.splitlines() if "::" in line}
    modules = {classname.rsplit(".", 1)[-1] for classname, _ in outside}
    assert {"test_word_count", "test_word_count_analysis", "test_tokenizers", "test_end_to_end"} <= modules

    (tmp_path / "out").mkdir()
    # One pytest worker inside (-n 1): beside the suite's other worker on the host, two test processes share
    # the two cores, as everywhere else in the suite. With two inside, three did, and a Spark test's own
    # timeout ran out (CI, 2026-12-01).
    run = podman(
        "run", "--rm", "-v", mirror_volume(), "-v", f"{tmp_path / 'out'}:/out",
        name, "python", "-m", "pytest", "-q", "-n", "1", *NO_CACHE, *SELECTION, "--junitxml=/out/junit.xml",
        timeout=2700, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:]
    assert outcomes(tmp_path / "out" / "junit.xml") == dict.fromkeys(outside, "passed")
