#!/usr/bin/env python3
"""Headless-Chromium harness: serve a folder of pages from their own loopback origin, open one page
in Debian's Chromium, wait (bounded) for the page to publish its result, and report it.

The page signals completion by assigning `window.harnessResult = {ok: <bool>, ...}`. The harness
prints one JSON object (the page's result, its console errors and network errors) and exits 0 only
when the page said `ok: true` in time and logged no console error. See README.md beside this file.

Driven over the Chrome DevTools Protocol with `websocket-client` (the one dependency): no browser
download, no Node, so it runs on a machine whose only browser is /usr/bin/chromium.

Usage as a module (what other scripts do):

    from harness import Chromium, StaticSite
    with StaticSite("examples/clients/browser") as site, Chromium() as browser:
        result = browser.run(site.url("index.html", api="http://127.0.0.1:5000"), timeout=30)
    assert result.passed, result.to_json()
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

try:
    import websocket  # websocket-client
except ImportError:  # pragma: no cover - reported to the user, not a crash
    websocket = None

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# Every flag that keeps Chromium off the network and quiet: the machine's network is closed, and a
# browser that tries to phone home (component updates, sync, QUIC probes) stalls or logs errors.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--mute-audio",
    # Port 0: Chromium picks a free port and writes it to DevToolsActivePort in the profile, so
    # there is no race between choosing a port and binding it.
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for servers that can't take port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, never cached, with no access log on stderr."""

    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
    }

    def do_GET(self) -> None:
        # Browsers ask for one unprompted; a 404 for it would only clutter the network log.
        if self.path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass


class StaticSite:
    """Serves `root` on 127.0.0.1, a free port, in a background thread: the pages' own origin.

    `port` 0 (the default) takes a free port. `host` is the name pages are addressed by: `127.0.0.1` (the default) gives an origin that
    differs from an API on 127.0.0.1 only by port (cross-origin, same-site); `localhost` gives a
    different site as well (cross-site: what SameSite cookie rules look at).
    """

    def __init__(self, root: str | os.PathLike, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"not a folder: {self.root}")
        self.host = host
        handler = functools.partial(_QuietHandler, directory=str(self.root))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, page: str, **query: str) -> str:
        """The URL of `page` (a path under the root), with `query` as its query string."""
        qs = f"?{urllib.parse.urlencode(query)}" if query else ""
        return f"{self.origin}/{page.lstrip('/')}{qs}"

    def __enter__(self) -> "StaticSite":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass
class PageResult:
    url: str
    # What the page assigned to window.harnessResult; None if it never did.
    result: object = None
    # console.error/console.assert calls, uncaught exceptions, and non-network log errors.
    console_errors: list[str] = field(default_factory=list)
    # The browser's network log (a refused CORS request, a 4xx a page asked for on purpose): reported,
    # not failed on, since a page that tests refusals causes them.
    network_errors: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        ok = isinstance(self.result, dict) and self.result.get("ok") is True
        return ok and self.error is None and not self.console_errors

    def to_json(self) -> str:
        return json.dumps(
            {
                "passed": self.passed,
                "url": self.url,
                "seconds": round(self.seconds, 2),
                "error": self.error,
                "result": self.result,
                "console_errors": self.console_errors,
                "network_errors": self.network_errors,
            },
            indent=2,
        )


class CdpError(RuntimeError):
    pass


class Chromium:
    """One headless Chromium with a new temporary profile, driven over CDP; stopped by its PID."""

    def __init__(self, executable: str = CHROMIUM, start_timeout: float = 30.0) -> None:
        if websocket is None:
            raise RuntimeError("the harness needs websocket-client: pip install websocket-client")
        if not shutil.which(executable):
            raise FileNotFoundError(f"Chromium not found at {executable} (apt-get install -y chromium)")
        self.executable = executable
        self.start_timeout = start_timeout
        self._profile: str | None = None
        self._process: subprocess.Popen | None = None
        self._ws = None
        self._ids = itertools.count(1)
        self._events: list[dict] = []

    def __enter__(self) -> "Chromium":
        self._profile = tempfile.mkdtemp(prefix="hyperjwt-chromium-")
        self._log = open(os.path.join(self._profile, "chromium.log"), "wb")
        self._process = subprocess.Popen(
            [self.executable, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own process group, so stopping it also stops its renderer and GPU helpers.
            start_new_session=True,
        )
        try:
            self._ws = websocket.create_connection(
                self._browser_ws_url(), timeout=self.start_timeout, suppress_origin=True
            )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _browser_ws_url(self) -> str:
        """Reads the port and path Chromium wrote to DevToolsActivePort once it listens."""
        marker = Path(self._profile, "DevToolsActivePort")
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Chromium exited with {self._process.returncode}: {self.log_tail()}")
            lines = marker.read_text().split() if marker.exists() else []
            if len(lines) == 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        raise TimeoutError(f"Chromium did not open its DevTools port in {self.start_timeout}s: {self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        path = Path(self._profile or "", "chromium.log")
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def __exit__(self, *exc) -> None:
        if self._ws is not None:
            try:
                self._ws.close()
            except OSError:
                pass
            self._ws = None
        if self._process is not None and self._process.poll() is None:
            # The group we created at start-up: Chromium and its helpers, nothing else.
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=10)
        if getattr(self, "_log", None):
            self._log.close()
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    # --- CDP -----------------------------------------------------------------------------------

    def _send(self, method: str, params: dict | None = None, session: str | None = None,
              timeout: float = 30.0) -> dict:
        """Sends one command and returns its result; events that arrive meanwhile are kept."""
        msg_id = next(self._ids)
        message = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply is None:
                raise TimeoutError(f"no answer to {method} in {timeout}s")
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise CdpError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def _receive(self, deadline: float) -> dict | None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        self._ws.settimeout(remaining)
        try:
            return json.loads(self._ws.recv())
        except websocket.WebSocketTimeoutException:
            return None

    def _drain_events(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        while (event := self._receive(deadline)) is not None:
            self._events.append(event)

    def run(self, url: str, timeout: float = 30.0, screenshot: str | None = None,
            allow_console_errors: list[str] = ()) -> PageResult:
        """Opens `url` in a new tab and waits up to `timeout` seconds for window.harnessResult.

        A console error matching one of the regular expressions `allow_console_errors` is expected
        (a page that checks the browser refuses something) and does not fail the page.
        """
        started = time.monotonic()
        page = PageResult(url=url)
        self._events.clear()
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
                self._send(domain, session=session)
            self._send("Page.navigate", {"url": url}, session=session)
            deadline = started + timeout
            while time.monotonic() < deadline:
                value = self._send(
                    "Runtime.evaluate",
                    {
                        "expression": "window.harnessResult === undefined ? null"
                        " : JSON.stringify(window.harnessResult)",
                        "returnByValue": True,
                    },
                    session=session,
                ).get("result", {}).get("value")
                if value is not None:
                    page.result = json.loads(value)
                    break
                self._drain_events(0.1)
            else:
                page.error = f"the page did not set window.harnessResult within {timeout}s"
            # Late console messages (a failed request's log line comes after the promise rejects).
            self._drain_events(0.2)
            if screenshot:
                data = self._send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
                Path(screenshot).write_bytes(base64.b64decode(data))
        except (CdpError, TimeoutError, OSError) as e:
            page.error = f"{type(e).__name__}: {e}"
        finally:
            try:
                self._send("Target.closeTarget", {"targetId": target}, timeout=5)
            except (CdpError, TimeoutError, OSError):
                pass
        self._collect(page, session)
        allowed = [re.compile(p) for p in allow_console_errors]
        page.console_errors = [e for e in page.console_errors if not any(p.search(e) for p in allowed)]
        page.seconds = time.monotonic() - started
        return page

    def _collect(self, page: PageResult, session: str) -> None:
        for event in self._events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                text = " ".join(_remote_text(arg) for arg in params.get("args", []))
                page.console_errors.append(f"console.{params['type']}: {text}")
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                text = _remote_text(details.get("exception", {})) or details.get("text", "")
                page.console_errors.append(f"uncaught: {text}")
            elif method == "Log.entryAdded":
                entry = params.get("entry", {})
                if entry.get("level") != "error":
                    continue
                text = f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip()
                if entry.get("source") == "network":
                    page.network_errors.append(text)
                else:
                    page.console_errors.append(text)


def _remote_text(obj: dict) -> str:
    """A readable form of a CDP RemoteObject (a console argument or an exception)."""
    if "value" in obj:
        return obj["value"] if isinstance(obj["value"], str) else json.dumps(obj["value"])
    return obj.get("description") or obj.get("unserializableValue") or obj.get("type", "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", metavar="DIR", help="serve DIR as the pages' origin (a free loopback port)")
    parser.add_argument("--page", default="index.html",
                        help="page under --serve (default index.html), or a full URL without --serve")
    parser.add_argument("--page-host", default="127.0.0.1", choices=["127.0.0.1", "localhost"],
                        help="the name the pages' origin uses: localhost makes it another site, too")
    parser.add_argument("--port", type=int, default=0,
                        help="port for the pages' origin (default: a free one); a script that must name the "
                        "origin before the page opens (in CORS_ORIGINS) picks one")
    parser.add_argument("--query", action="append", default=[], metavar="KEY=VALUE",
                        help="query parameter for the page (repeatable), e.g. api=http://127.0.0.1:5000")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the page (default 30)")
    parser.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the page when it is done")
    parser.add_argument("--allow-console-error", action="append", default=[], metavar="REGEX",
                        help="a console error matching REGEX does not fail the run (repeatable)")
    parser.add_argument("--print-origin", action="store_true",
                        help="print the pages' origin on stderr before opening the page")
    args = parser.parse_args(argv)

    query = {}
    for item in args.query:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--query wants KEY=VALUE, got {item!r}")
        query[key] = value

    try:
        if args.serve:
            with StaticSite(args.serve, host=args.page_host, port=args.port) as site, Chromium() as browser:
                if args.print_origin:
                    print(f"pages served at {site.origin}", file=sys.stderr)
                result = browser.run(site.url(args.page, **query), args.timeout, args.screenshot,
                                     args.allow_console_error)
        else:
            with Chromium() as browser:
                result = browser.run(args.page, args.timeout, args.screenshot, args.allow_console_error)
    except (RuntimeError, FileNotFoundError, TimeoutError, OSError) as e:
        print(json.dumps({"passed": False, "error": f"{type(e).__name__}: {e}"}, indent=2))
        return 1

    print(result.to_json())
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
