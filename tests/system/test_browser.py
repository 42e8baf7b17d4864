"""Self-test of tests/browser.py on a local page: it must see what is rendered, and fail when it is not."""

from __future__ import annotations

import base64
import socket
import struct
import zlib
from pathlib import Path

import pytest

from tests.system.browser import BrowserError, Chromium, JavaScriptError

ROWS = [("alice", "3"), ("bob", "14"), ("carol", "159")]


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of one colour, written by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\x20\x60\xa0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def page(image: bytes) -> str:
    rows = "".join(f"<tr><td>{name}</td><td>{count}</td></tr>" for name, count in ROWS)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>browser self-test</title></head>
<body>
<table id="counts"><thead><tr><th>word</th><th>count</th></tr></thead><tbody>{rows}</tbody></table>
<img id="chart" src="data:image/png;base64,{base64.b64encode(image).decode()}">
<img id="broken" src="data:image/png;base64,{base64.b64encode(b"not a png").decode()}">
<svg id="plot" width="120" height="60" xmlns="http://www.w3.org/2000/svg">
  <rect x="0" y="0" width="120" height="60" fill="#eee"/><circle cx="30" cy="30" r="20" fill="#36a"/>
  <text x="60" y="35">svg</text>
</svg>
</body></html>
"""


def test_renders_a_local_page_offline(tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    html.write_text(page(png(37, 23)), encoding="utf-8")
    with Chromium() as browser:
        browser.set_viewport(800, 600)
        browser.send("Network.enable")
        browser.open(html.as_uri())

        cells = browser.evaluate(
            "[...document.querySelectorAll('#counts tbody tr')]"
            ".map(tr => [...tr.cells].map(td => td.textContent))"
        )
        assert cells == [list(row) for row in ROWS]
        image = "({w: i.naturalWidth, h: i.naturalHeight, complete: i.complete})"
        assert browser.evaluate(f"(i => {image})(document.getElementById('chart'))") == {
            "w": 37,
            "h": 23,
            "complete": True,
        }
        # The same check on an image that cannot be decoded: it does fail.
        assert browser.evaluate(f"(i => {image})(document.getElementById('broken'))") == {
            "w": 0,
            "h": 0,
            "complete": True,
        }
        svg = browser.evaluate(
            "(s => ({circles: s.querySelectorAll('circle').length, text: s.textContent.trim(),"
            " width: s.getBoundingClientRect().width}))(document.getElementById('plot'))"
        )
        assert svg == {"circles": 1, "text": "svg", "width": 120}

        shot = browser.screenshot(tmp_path / "report.png")
        requests = [r["request"]["url"] for r in browser.events("Network.requestWillBeSent")]

    width, height = png_size(shot.read_bytes())
    assert (width, height >= 600) == (800, True)
    assert html.as_uri() in requests
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []


def test_errors_are_reported() -> None:
    with Chromium() as browser:
        browser.open("data:text/html,<p id='x'>ready</p>")
        assert browser.evaluate("document.getElementById('x').textContent") == "ready"
        assert browser.evaluate("new Promise(resolve => setTimeout(() => resolve(42), 50))") == 42
        with pytest.raises(JavaScriptError, match="ReferenceError: missing is not defined"):
            browser.evaluate("missing.value")
        with pytest.raises(BrowserError, match=r"still falsy after 0.3 s: 1 \+ 1 === 3; last value: False"):
            browser.wait_for("1 + 1 === 3", timeout=0.3)
        with socket.socket() as closed:  # bound, never listening: connections to it are refused
            closed.bind(("127.0.0.1", 0))
            with pytest.raises(BrowserError, match="ERR_CONNECTION_REFUSED"):
                browser.open(f"http://127.0.0.1:{closed.getsockname()[1]}/")
        profile = browser._dir
    assert not profile.exists()
    assert browser.process.returncode is not None


def test_an_error_in_the_block_still_ends_the_browser() -> None:
    with pytest.raises(JavaScriptError), Chromium() as browser:
        profile, group = browser._dir, browser.process.pid
        assert group in live_processes(group)
        browser.evaluate("throw new Error('test failed')")
    assert not profile.exists()
    assert live_processes(group) == []  # nor any renderer, GPU or zygote process of it


def live_processes(group: int) -> list[int]:
    """Processes of a process group that are running (not zombies, which init reaps in its own time)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[2]) == group and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def test_missing_chromium_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(BrowserError, match=r"apt-get install -y chromium$"), Chromium():
        pass
