"""docker/Dockerfile refers only to things the project has (there is no Docker engine to build it here)."""

from __future__ import annotations

import json
import shlex
import tomllib

from tests.conftest import REPO

DOCKERFILE = REPO / "docker" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_base_image_is_python_3_11_and_java_17_is_installed() -> None:
    steps = instructions()
    assert steps[0] == ("FROM", "python:3.11-slim-bookworm")
    runs = " ".join(args for op, args in steps if op == "RUN")
    assert "openjdk-17-jre-headless" in runs


def test_every_copied_path_exists_and_is_not_ignored() -> None:
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    copies = [shlex.split(args) for op, args in instructions() if op == "COPY"]
    sources = [src for parts in copies for src in parts[:-1]]
    assert sources == ["pyproject.toml", "README.md", "jobs", "pipeline", "conf", "tests", "data/README.md"]
    for src in sources:
        assert (REPO / src).exists(), src
        assert src not in ignored
    assert "!data/README.md" in ignored


def test_installed_extra_exists_and_command_is_the_readme_test_command() -> None:
    steps = dict(instructions())
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert "-e '.[dev]'" in steps["RUN"] and "dev" in extras
    command = json.loads(steps["CMD"])
    assert command == ["python", "-m", "pytest", "-q"]
    assert "python -m pytest -q" in (REPO / "README.md").read_text()
    assert steps["ENV"] == "GUTENBERG_MIRROR=/shared/gutenberg/mirror"
    assert "GUTENBERG_MIRROR" in (REPO / "tests" / "conftest.py").read_text()
