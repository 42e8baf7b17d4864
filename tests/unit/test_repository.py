"""What git holds: no binary file but the README's images, and no packages or build output."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def tracked() -> list[str]:
    return subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()


def is_binary(path: Path) -> bool:
    return b"\0" in path.read_bytes()[:8192]


def test_the_only_binary_files_are_the_readmes_images() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    images = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme))
    binaries = {name for name in tracked() if (REPO / name).is_file() and is_binary(REPO / name)}
    assert binaries <= images
    assert binaries == {name for name in images if not name.startswith("http")}


def test_git_ignores_packages_and_build_output() -> None:
    names = ["x.whl", "dist/x.tar.gz", "build/lib/x.py", ".wheelhouse/pyspark.whl", "x.egg-info/PKG-INFO"]
    result = subprocess.run(
        ["git", "check-ignore", *names], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.stdout.split() == names
