"""Security: book ids are positive ints before any path or URL, outputs stay under the storage root, no shell
strings, and scripts/luigid listens on loopback unless told otherwise."""

from __future__ import annotations

import ast
import contextlib
import datetime
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from importlib.machinery import SourceFileLoader
from pathlib import Path

import luigi
import pytest
from luigi import date_interval

from pipeline import gutenberg as gb
from pipeline import storage
from pipeline.corpus import CorpusParquet, CorpusText
from pipeline.fetch import CatalogRecord, DownloadBook, TopBooks
from pipeline.mapreduce import TopWordsHadoop, TopWordsMR, WordCountHadoop, WordCountMR
from pipeline.spark import TopWordsSpark, WordCountSpark
from pipeline.trend import TopWordsTrend
from tests.conftest import REPO, ConfigOverride, MirrorServer, Reply, offline_args, run_luigi

DAY = datetime.date(2026, 11, 20)

# --- book ids ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-1, 0, "../x", "7", "1/../../etc", 1.0, True, None, 10**9 + 1])
def test_download_book_refuses_anything_but_a_positive_int(bad: object) -> None:
    with pytest.raises(ValueError):
        DownloadBook(book_id=bad)


@pytest.mark.parametrize("text", ["-1", "0", "../x", "1/../2", "٣", "1e3", "0x10", "1_000", ""])
def test_book_id_on_the_command_line_is_plain_positive_decimal(text: str) -> None:
    param = dict(DownloadBook.get_params())["book_id"]
    with pytest.raises(ValueError):
        param.parse(text)


def test_book_id_accepted_values() -> None:
    param = dict(DownloadBook.get_params())["book_id"]
    assert param.parse("84") == 84
    assert DownloadBook(book_id=1).book_id == 1
    assert DownloadBook(book_id=10**9).book_id == 10**9


def top_page(hrefs: list[str]) -> str:
    items = "".join(f'<li><a href="{h}">Book by Someone (10)</a></li>\n' for h in hrefs)
    return f'<h2 id="books-last1">Top</h2>\n<ol>\n{items}</ol>\n'


def test_top_page_parser_yields_ints_and_refuses_other_hrefs() -> None:
    books = gb.parse_top_page(top_page(["/ebooks/84", "/ebooks/1342/"]), "yesterday")
    assert [(b.book_id, type(b.book_id)) for b in books] == [(84, int), (1342, int)]
    for href in ["/ebooks/-1", "/ebooks/../x", "/ebooks/1/../2", "/ebooks/84?x=1", "https://evil/ebooks/84"]:
        with pytest.raises(gb.GutenbergError, match="unexpected entry"):
            gb.parse_top_page(top_page([href]), "yesterday")


def test_top_page_parser_yields_only_ascii_decimal_ids() -> None:
    with pytest.raises(gb.GutenbergError):
        gb.parse_top_page(top_page(["/ebooks/٣"]), "yesterday")
    # 0 is a well-formed entry; CorpusParquet skips it as an invalid id (test below).
    assert [b.book_id for b in gb.parse_top_page(top_page(["/ebooks/0"]), "yesterday")] == [0]


# --- storage paths -------------------------------------------------------------------------------------


def test_every_output_path_stays_under_the_storage_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    stop = tmp_path / "x" / ".." / "stop words; rm -rf ~.txt"
    (tmp_path / "x").mkdir()
    stop.write_text("the\n", encoding="utf-8")
    tasks: list[luigi.Task] = []
    for period in gb.PERIOD_SECTIONS:
        corpus = {"date": DAY, "period": period, "n_books": 1}
        tasks += [TopBooks(date=DAY, period=period), CorpusParquet(**corpus), WordCountSpark(**corpus)]
        tasks += [CorpusText(**corpus), WordCountMR(**corpus), WordCountHadoop(**corpus)]
        for stopwords in ("english", "none", str(stop)):
            words = {**corpus, "n_words": 0, "stopwords": stopwords}
            tasks += [TopWordsSpark(**words), TopWordsMR(**words), TopWordsHadoop(**words)]
            trend = {"period": period, "n_books": 1, "stopwords": stopwords}
            tasks.append(TopWordsTrend(date_interval=date_interval.Week.from_date(DAY), **trend))
    downloads = [DownloadBook(book_id=i) for i in (1, 84, 10**9)]
    with ConfigOverride("storage", "root", str(root)):
        paths = [t.path for task in tasks for t in luigi.task.flatten(task.output())]
        paths += [d.output().path for d in downloads] + [d.missing().path for d in downloads]
        paths += [CatalogRecord(book_id=d.book_id).output().path for d in downloads]
        paths += [storage.timing_path(task.task_family, task.task_id) for task in tasks + downloads]
    # Per period: 6 corpus-level outputs, 3 stop-word choices x (3 engines x 4 report files + 3 trend files).
    assert len(paths) == 3 * (6 + 3 * (3 * 4 + 3)) + 9 + len(tasks) + len(downloads)
    for path in paths:
        assert ".." not in Path(path).parts, path
        assert os.path.commonpath([str(root), os.path.realpath(path)]) == str(root), path
    assert not root.exists()  # building targets creates nothing


# --- no shell ------------------------------------------------------------------------------------------


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


# --- scripts/luigid ------------------------------------------------------------------------------------

LUIGID = REPO / "scripts" / "luigid"


def luigid_module():
    loader = SourceFileLoader("luigid_script", str(LUIGID))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["--address", "127.0.0.1"]),
        (["--port", "8090", "--background"], ["--address", "127.0.0.1", "--port", "8090", "--background"]),
        (["--address", "0.0.0.0"], ["--address", "0.0.0.0"]),
        (["--address=::1", "--port", "1"], ["--address=::1", "--port", "1"]),
        (["--addr", "10.0.0.1"], ["--addr", "10.0.0.1"]),  # argparse accepts unique prefixes
        (["--unix-socket", "/tmp/l.sock"], ["--unix-socket", "/tmp/l.sock"]),
        (["--unix=/tmp/l.sock"], ["--unix=/tmp/l.sock"]),
        (["--", "--address"], ["--address", "127.0.0.1", "--", "--address"]),
    ],
)
def test_luigid_adds_loopback_address_unless_given(argv: list[str], expected: list[str]) -> None:
    assert luigid_module().with_default_address(argv) == expected


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def other_addresses() -> list[str]:
    """This machine's IPv4 addresses outside 127/8 (from the host name and the default route)."""
    found = set()
    with contextlib.suppress(OSError):
        found |= {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe, contextlib.suppress(OSError):
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
        found.add(probe.getsockname()[0])
    return sorted(a for a in found if not a.startswith("127."))


def connects(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def test_luigid_listens_on_loopback_only(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(LUIGID), "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "luigid.log").open("w"),
    )
    try:
        deadline = time.monotonic() + 60
        while not connects("127.0.0.1", port):
            assert proc.poll() is None, (tmp_path / "luigid.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "luigid did not listen within 60 s"
            time.sleep(0.2)
        if shutil.which("ss"):
            listening = subprocess.run(
                ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
            ).stdout.split()
            assert [field for field in listening if field.endswith(f":{port}")] == [f"127.0.0.1:{port}"]
        others = other_addresses()
        for address in others:
            assert not connects(address, port), address
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_corpus_skips_an_invalid_id_from_the_top_list_without_a_request(
    http_server: MirrorServer, tmp_path: Path
) -> None:
    import json

    page = top_page(["/ebooks/0", "/ebooks/900007"]).encode()
    http_server.overrides["/browse/scores/top"] = Reply(200, page)
    http_server.overrides["/cache/epub/900007/pg900007.txt"] = Reply(200, b"Some words here.\n")
    root = tmp_path / "data"
    result = run_luigi(
        "CorpusParquet",
        *offline_args(http_server.url, root, 1),
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # Nothing for book 0; book 900007 has no Language line, so its catalogue record is asked for (404).
    assert http_server.requests == [
        "/browse/scores/top",
        "/cache/epub/900007/pg900007.txt",
        "/cache/epub/900007/pg900007.rdf",
    ]
    manifest = json.loads((root / "corpus/yesterday/2026-11-20/books-1/_books.json").read_text())
    assert [b["book_id"] for b in manifest["books"]] == [900007]
    assert manifest["skipped"] == [
        {
            "rank": 1,
            "book_id": 0,
            "title": "Book",
            "author": "Someone",
            "downloads": 10,
            "reason": "invalid book id: 0 is not in [1, 1000000000]",
        }
    ]
    assert sorted(p.name for p in (root / "raw").iterdir()) == ["900007"]
