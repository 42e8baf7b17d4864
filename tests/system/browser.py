"""A small headless-Chromium driver for tests: the DevTools protocol over --remote-debugging-pipe.

    with Chromium() as browser:
        browser.set_viewport(1280, 800)
        browser.open("http://127.0.0.1:8082/static/visualiser/index.html")
        browser.wait_for("document.querySelectorAll('#taskTable tbody tr').length > 0", timeout=30)
        browser.screenshot(path)

No dependency beyond the standard library and Debian's `chromium`: commands go to the browser as JSON
terminated by NUL on its fd 3, replies and events come back on its fd 4.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# The flags every test browser gets: headless, nothing fetched or synced behind the page's back (tests
# must see only the requests the page makes), and a throwaway profile (added in Chromium.__enter__).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
# True once finite CSS transitions and animations have ended; endless ones (spinners) are ignored.
_SETTLED = """document.getAnimations().every(
  a => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)"""


class BrowserError(RuntimeError):
    """Chromium could not be started, died, refused a command, or a wait timed out."""


class JavaScriptError(BrowserError):
    """An expression given to `evaluate` threw."""


def _find_chromium() -> str:
    if os.environ.get("CHROMIUM"):
        path = shutil.which(os.environ["CHROMIUM"])
        if not path:
            raise BrowserError(f"$CHROMIUM is {os.environ['CHROMIUM']!r}, which is not an executable")
        return path
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise BrowserError("chromium not found ($CHROMIUM unset, not on PATH): apt-get install -y chromium")
    return path


class Chromium:
    """Headless Chromium with one page, driven over a pipe; a context manager that kills it on exit."""

    def __init__(self, command_timeout: float = 30) -> None:
        self.command_timeout = command_timeout
        self._next_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._closed = False
        self._changed = threading.Condition()
        self._write_lock = threading.Lock()
        self._session: str | None = None

    # --- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> Chromium:
        executable = _find_chromium()
        self._dir = Path(tempfile.mkdtemp(prefix="test-chromium-"))
        try:
            self._start(executable)
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            attached = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})
            self._session = attached["sessionId"]
            self.send("Page.enable")
            self.send("Page.setLifecycleEventsEnabled", {"enabled": True})
            self.send("Runtime.enable")
            # Overlay scrollbars would take 15 px of width from the page and show up in screenshots.
            self.send("Emulation.setScrollbarsHidden", {"hidden": True})
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self, executable: str) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def child_fds() -> None:
            # Chromium reads fds 3 and 4 by number; the pipe ends may themselves be 3 or 4, so move them
            # above both before duplicating onto them.
            r, w = (
                fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10),
                fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10),
            )
            os.dup2(r, 3)
            os.dup2(w, 4)

        self._stderr = (self._dir / "stderr.log").open("wb")
        command = [executable, *FLAGS, f"--user-data-dir={self._dir / 'profile'}", "--remote-debugging-pipe"]
        # Chromium keeps crash reports under $XDG_CONFIG_HOME and GLib a dconf cache under $XDG_CACHE_HOME,
        # whatever the profile: both go in the temporary directory, not in the user's home.
        env = {
            **os.environ,
            "XDG_CONFIG_HOME": str(self._dir / "config"),
            "XDG_CACHE_HOME": str(self._dir / "cache"),
        }
        try:
            self.process = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._stderr,
                stderr=self._stderr,
                pass_fds=(3, 4),
                preexec_fn=child_fds,  # only fcntl/dup2, which are safe between fork and exec
                start_new_session=True,  # its own process group, so close() can end its helpers too
            )
        finally:
            os.close(to_browser_r)
            os.close(from_browser_w)
        self._reader = threading.Thread(target=self._read, name="chromium-pipe", daemon=True)
        self._reader.start()

    def close(self) -> None:
        """End the browser (politely, then SIGKILL to its process group) and remove its profile."""
        process = getattr(self, "process", None)
        if process is not None and process.returncode is None:
            if not self._closed:
                with contextlib.suppress(BrowserError, OSError):
                    self._call("Browser.close", timeout=5)
            deadline = time.monotonic() + 5
            # WNOWAIT: the leader stays a zombie until wait(), so its process group id cannot be reused
            # by anyone else while its helpers are killed.
            while time.monotonic() < deadline and not os.waitid(
                os.P_PID, process.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG
            ):
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if hasattr(self, "_reader"):
            # The browser is gone, so its end of the pipe is closed and the reader sees end-of-file; only
            # then close ours, or a reader still in os.read() could read a reused descriptor.
            self._reader.join(timeout=5)
        for fd in ("_to_browser", "_from_browser"):
            if hasattr(self, fd):
                with contextlib.suppress(OSError):
                    os.close(getattr(self, fd))
                delattr(self, fd)
        if hasattr(self, "_stderr"):
            self._stderr.close()
        if hasattr(self, "_dir"):
            shutil.rmtree(self._dir, ignore_errors=True)

    def _stderr_tail(self, lines: int = 15) -> str:
        try:
            text = (self._dir / "stderr.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # --- the pipe -----------------------------------------------------------------------------------

    def _read(self) -> None:
        buffer = b""
        try:
            while chunk := os.read(self._from_browser, 1 << 16):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                with self._changed:
                    for raw in messages:
                        message = json.loads(raw)
                        if "id" in message:
                            self._replies[message["id"]] = message
                        else:
                            self._events.append(message)
                    self._changed.notify_all()
        except OSError:
            pass  # close() closed our end
        finally:
            with self._changed:
                self._closed = True
                self._changed.notify_all()

    def _call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        with self._changed:
            if self._closed:
                raise BrowserError(f"{method}: chromium has exited\n{self._stderr_tail()}")
            self._next_id += 1
            command_id = self._next_id
        message: dict[str, Any] = {"id": command_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = memoryview(json.dumps(message).encode() + b"\0")
        try:
            with self._write_lock:
                while data:
                    data = data[os.write(self._to_browser, data) :]
        except OSError as error:
            raise BrowserError(
                f"{method}: cannot write to chromium ({error})\n{self._stderr_tail()}"
            ) from None
        timeout = self.command_timeout if timeout is None else timeout
        with self._changed:
            if not self._changed.wait_for(lambda: command_id in self._replies or self._closed, timeout):
                raise BrowserError(f"{method}: no reply from chromium in {timeout} s")
            if command_id not in self._replies:
                raise BrowserError(f"{method}: chromium has exited\n{self._stderr_tail()}")
            reply = self._replies.pop(command_id)
        if "error" in reply:
            error = reply["error"]
            raise BrowserError(f"{method}: {error.get('message')} {error.get('data', '')}".rstrip())
        return reply.get("result", {})

    def _wait_event(self, method: str, since: int, match: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The params of the first `method` event of the page after index `since` whose params contain
        `match`."""

        def find() -> dict[str, Any] | None:
            for event in self._events[since:]:
                params = event.get("params", {})
                if (
                    event["method"] == method
                    and event.get("sessionId") == self._session
                    and all(params.get(k) == v for k, v in match.items())
                ):
                    return params
            return None

        with self._changed:
            self._changed.wait_for(lambda: find() is not None or self._closed, timeout)
            found = find()
        if found is not None:
            return found
        if self._closed:
            raise BrowserError(f"chromium exited while waiting for {method}\n{self._stderr_tail()}")
        raise BrowserError(f"no {method} {match} within {timeout} s")

    # --- the page -----------------------------------------------------------------------------------

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A raw DevTools command to the page (e.g. "Network.enable"); its result."""
        return self._call(method, params, session=self._session)

    def events(self, method: str) -> list[dict[str, Any]]:
        """The params of every `method` event the page has sent so far (e.g. "Network.requestWillBeSent")."""
        with self._changed:
            return [
                e.get("params", {})
                for e in self._events
                if e["method"] == method and e.get("sessionId") == self._session
            ]

    def open(self, url: str, timeout: float = 30) -> None:
        """Navigate to `url` and wait for its load event (not for a change of #fragment only: none fires)."""
        with self._changed:
            mark = len(self._events)
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"cannot open {url}: {result['errorText']}")
        if "loaderId" in result:
            load = {"name": "load", "loaderId": result["loaderId"]}
            self._wait_event("Page.lifecycleEvent", mark, load, timeout)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited), as JSON-able Python."""
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "exception")
            raise JavaScriptError(f"{expression}: {text}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 10, interval: float = 0.1) -> Any:
        """Evaluate `expression` until it is truthy; its value. JavaScript errors count as not yet."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                last: Any = self.evaluate(expression)
            except JavaScriptError as error:
                last = error  # e.g. the page's scripts have not defined it yet
            if last and not isinstance(last, JavaScriptError):
                return last
            if time.monotonic() >= deadline:
                raise BrowserError(f"still falsy after {timeout} s: {expression}; last value: {last!r}")
            time.sleep(interval)

    def set_viewport(self, width: int, height: int) -> None:
        """Emulate a `width` x `height` CSS-pixel window at scale 1 (so screenshots have that size)."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def screenshot(self, path: str | os.PathLike[str], full_page: bool = True) -> Path:
        """Save a PNG of the viewport, or of the whole page when `full_page`; its path."""
        # Let transitions end first (a sidebar sliding away, a fade-in): the picture is of the page at rest.
        with contextlib.suppress(BrowserError):
            self.wait_for(_SETTLED, timeout=5)
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
            params.update(clip=clip, captureBeyondViewport=True)
        data = base64.b64decode(self.send("Page.captureScreenshot", params)["data"])
        path = Path(path)
        path.write_bytes(data)
        return path
