#!/usr/bin/env python3
"""Runs a luigi.contrib.hadoop JobTask's mapper, combiner or reducer on a Hadoop streaming node.

luigi.contrib.hadoop imports `luigi.contrib.mrrunner` and ships its file to every task as
`mrrunner.py`, but the luigi 3.7 and 3.8 wheels on PyPI leave that module out, so the import fails.
pipeline.mapreduce registers this module under that name when luigi lacks it. Hadoop streaming then
runs `python3 mrrunner.py map|combiner|reduce` in a task directory that holds this file,
`packages.tar` (luigi, pipeline, jobs) and `job-instance.pickle`.

Standard library only: the packages it unpacks are what makes the job importable.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
import tarfile
import traceback
from typing import Any, TextIO

STEPS = {"map": "run_mapper", "combiner": "run_combiner", "reduce": "run_reducer"}
PACKAGES = "packages.tar"
JOB_PICKLE = "job-instance.pickle"


def unpack_packages(directory: str = ".") -> None:
    """Extract packages.tar into the task directory and put that directory first on sys.path."""
    archive = os.path.join(directory, PACKAGES)
    if os.path.exists(archive):
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4+: refuse absolute paths and escapes
                tar.extractall(directory, filter="data")
            else:
                tar.extractall(directory)
    path = os.path.abspath(directory)
    if path not in sys.path:
        sys.path.insert(0, path)


def load_job(directory: str = ".") -> Any:
    """The pickled JobTask, with the links it asked Hadoop for set up."""
    with open(os.path.join(directory, JOB_PICKLE), "rb") as handle:
        job = pickle.load(handle)
    job._setup_remote()
    return job


def run(step: str, stdin: TextIO, stdout: TextIO, directory: str = ".") -> None:
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}; expected one of {', '.join(STEPS)}")
    unpack_packages(directory)
    job = load_job(directory)
    getattr(job, STEPS[step])(stdin, stdout)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: mrrunner.py {{{'|'.join(STEPS)}}}", file=sys.stderr)
        return 2
    # Streaming pipes carry UTF-8 whatever the node's locale says.
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="\n")
    stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    try:
        run(args[0], stdin, stdout)
    except Exception:
        # luigi.contrib.hadoop looks for this marker in task logs to report the remote traceback.
        print("luigi-exc-hex=" + traceback.format_exc().encode("utf-8").hex(), file=sys.stderr)
        raise
    finally:
        stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
