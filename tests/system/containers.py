"""podman for the container tests: the image docker/build-offline builds, and podman itself.

The tests are marked `container` and skip where podman is not installed; .ci/run installs it and builds
the image before the suite, so here the build is a no-op that only names the image.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO, mirror_dir

BUILD = REPO / "docker" / "build-offline"
# podman's settings on this kind of host (docker/podman/containers.conf says why), unless the caller has
# its own.
CONTAINERS_CONF = REPO / "docker" / "podman" / "containers.conf"
ENV = {**os.environ, "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(CONTAINERS_CONF))}


def mirror_volume() -> str:
    """The shared mirror, read-only, where the image's GUTENBERG_MIRROR (/shared/gutenberg/mirror) is."""
    return f"{mirror_dir()}:/shared/gutenberg/mirror:ro"


def image() -> str:
    """The image's name, from docker/build-offline; one build at a time, as the files may run in parallel."""
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (Debian: apt-get install podman runc; .ci/run installs it)")
    lock = Path(os.environ.get("TMPDIR", "/tmp")) / "gutenberg-wordcount-build-offline.lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = subprocess.run(
            [str(BUILD)], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=3600, check=False
        )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def run(
    argv: list[str], cwd: Path | None = None, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """A container command (podman, podman-compose) with the project's settings; `check`: fail the test,
    with the command's stdout and stderr."""
    result = subprocess.run(
        argv, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check:
        assert result.returncode == 0, (argv, result.stdout[-3000:], result.stderr[-3000:])
    return result


def podman(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
    """A podman command with the project's settings."""
    return run(["podman", *args], timeout=timeout, check=check)
