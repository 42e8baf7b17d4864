"""Security with real processes: scripts/luigid listens on loopback only, and the corpus skips an invalid id
from the top list without a request. The checks that need no process are in tests/unit (test_params,
test_gutenberg, test_storage, test_no_shell, test_luigid)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support import REPO, MirrorServer, Reply, offline_args, run_luigi

# --- scripts/luigid ------------------------------------------------------------------------------------

LUIGID = REPO / "scripts" / "luigid"


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


# --- ids from the top list ---------------------------------------------------------------------------


def top_page(hrefs: list[str]) -> str:
    items = "".join(f'<li><a href="{h}">Book by Someone (10)</a></li>\n' for h in hrefs)
    return f'<h2 id="books-last1">Top</h2>\n<ol>\n{items}</ol>\n'


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
