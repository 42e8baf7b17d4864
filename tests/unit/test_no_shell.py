"""No shell strings in the project's code: no os.system, os.popen or subprocess.getoutput, no shell=True."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import REPO


def project_python_files() -> list[Path]:
    files = [*sorted((REPO / "pipeline").rglob("*.py")), *sorted((REPO / "jobs").rglob("*.py"))]
    for script in sorted((REPO / "scripts").iterdir()):
        if script.is_file() and script.read_bytes().startswith(b"#!/usr/bin/env python"):
            files.append(script)
    return files


def shell_calls(source: str, filename: str) -> list[str]:
    """`file:line call` of every os.system/os.popen/subprocess.getoutput-like call and every shell=True."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        if name.split(".")[-1] in {"system", "popen", "getoutput", "getstatusoutput"} and name.split(".")[
            0
        ] in {
            "os",
            "subprocess",
            "system",
            "popen",
            "getoutput",
            "getstatusoutput",
        }:
            found.append(f"{filename}:{node.lineno} {name}")
        for keyword in node.keywords:
            if keyword.arg == "shell" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is False
            ):
                found.append(f"{filename}:{node.lineno} {name}(shell=...)")
    return found


def test_the_scanner_finds_shell_calls() -> None:
    source = (
        "import os, subprocess\nos.system('ls')\nos.popen('ls')\nsubprocess.run('ls', shell=True)\n"
        "subprocess.check_output(x, shell=flag)\nsubprocess.getoutput('ls')\n"
        "subprocess.run(['ls'], shell=False)\n"
    )
    assert shell_calls(source, "t.py") == [
        "t.py:2 os.system",
        "t.py:3 os.popen",
        "t.py:4 subprocess.run(shell=...)",
        "t.py:5 subprocess.check_output(shell=...)",
        "t.py:6 subprocess.getoutput",
    ]


def test_no_shell_strings_in_project_code() -> None:
    files = project_python_files()
    names = {p.relative_to(REPO).as_posix() for p in files}
    assert {"pipeline/fetch.py", "jobs/textrules.py", "scripts/luigid", "scripts/spark-cluster"} <= names
    found = [c for p in files for c in shell_calls(p.read_text(encoding="utf-8"), str(p.relative_to(REPO)))]
    assert found == []
