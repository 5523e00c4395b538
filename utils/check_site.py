"""Checks the built documentation site in a real headless browser.

    python utils/check_site.py                      # after `make docs`
    python utils/check_site.py --page concepts/ --out /tmp/site-check

Serves ``site/`` on localhost, opens each page in headless Chromium and reports, per page, the
console errors and warnings, uncaught exceptions, failed or 4xx/5xx requests, and any request that
leaves localhost (the site must work offline: no web fonts, no CDN scripts). A screenshot of each
page goes to ``--out`` to be looked at. Exits 1 when a page has a problem.

The browser is driven over the DevTools protocol through ``--remote-debugging-pipe`` (JSON
messages on file descriptors 3 and 4), so no websocket client or other dependency is needed.
Chromium comes from the system packages (``apt-get install chromium``); any Chrome works.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import http.server
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_PAGES = ("", "concepts/", "guides/hub/", "reference/darling/partitioning/algorithms/")
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)


@dataclass
class PageReport:
    """What one page did in the browser."""

    url: str
    title: str = ""
    screenshot: str = ""
    console: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        return [
            *self.console,
            *self.failed_requests,
            *(f"external request: {u}" for u in self.external_requests),
        ]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serves ``site`` on a free localhost port in a daemon thread; returns the server and its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class Browser:
    """A headless Chromium driven over the DevTools protocol on a pipe."""

    def __init__(self, executable: str, profile: str, width: int = 1280, height: int = 900) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire_pipes() -> None:  # runs in the child: the protocol wants fds 3 (in) and 4 (out)
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        command = [
            executable,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire_pipes,
            pass_fds=(3, 4),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next_id = 0
        self._replies: dict[int, dict] = {}
        self.events: queue.Queue = queue.Queue()
        self._lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._from_child, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        with self._lock:
                            self._replies[message["id"]] = message
                            self._lock.notify_all()
                    else:
                        self.events.put(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30):
        """Sends one command and waits for its result."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._next_id not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise RuntimeError(f"Chromium did not answer {method} within {timeout:.0f} s.")
                self._lock.wait(min(left, 0.5))
            reply = self._replies.pop(self._next_id)
        if "error" in reply:
            raise RuntimeError(f"{method} failed: {reply['error']}")
        return reply.get("result", {})

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_child)


def _describe_console(event: dict) -> str | None:
    method, params = event["method"], event.get("params", {})
    if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "warning", "assert"}:
        text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", []))
        return f"console.{params['type']}: {text}"
    if method == "Runtime.exceptionThrown":
        details = params.get("exceptionDetails", {})
        text = details.get("exception", {}).get("description") or details.get("text", "")
        return f"uncaught exception: {text} ({details.get('url', '')}:{details.get('lineNumber', '')})"
    if method == "Log.entryAdded" and params.get("entry", {}).get("level") in {"error", "warning"}:
        entry = params["entry"]
        return f"{entry['source']} {entry['level']}: {entry.get('text', '')} {entry.get('url', '')}".strip()
    return None


def check_page(browser: Browser, session: str, url: str, out: Path, name: str, settle: float) -> PageReport:
    """Loads one page, collects what went wrong while it loaded, and saves a screenshot."""
    report = PageReport(url=url)
    while not browser.events.empty():
        browser.events.get_nowait()
    browser.send("Page.navigate", {"url": url}, session)
    requests: dict[str, str] = {}
    loaded_at = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if loaded_at is not None and time.monotonic() - loaded_at > settle:
            break
        try:
            event = browser.events.get(timeout=0.2)
        except queue.Empty:
            continue
        if event.get("sessionId") != session:
            continue
        method, params = event["method"], event.get("params", {})
        if method == "Page.loadEventFired":
            loaded_at = time.monotonic()
        elif method == "Network.requestWillBeSent":
            request_url = params["request"]["url"]
            requests[params["requestId"]] = request_url
            if urlparse(request_url).hostname not in {"127.0.0.1", "localhost", None}:
                report.external_requests.append(request_url)
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            report.failed_requests.append(f"HTTP {params['response']['status']}: {params['response']['url']}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            report.failed_requests.append(
                f"failed ({params.get('errorText', '')}): {requests.get(params['requestId'], '?')}"
            )
        elif (line := _describe_console(event)) is not None:
            report.console.append(line)
    if loaded_at is None:
        report.console.append("the page did not finish loading within 30 s")
    probe = (
        "JSON.stringify({title: document.title, h1: document.querySelector('h1')?.textContent?.trim() || '',"
        " math: document.querySelectorAll('math').length, rawMath: document.querySelectorAll('.arithmatex').length"
        " - document.querySelectorAll('.arithmatex math').length,"
        " code: document.querySelectorAll('pre code').length, nav: document.querySelectorAll('.md-nav__link').length})"
    )
    result = browser.send("Runtime.evaluate", {"expression": probe, "returnByValue": True}, session)
    report.stats = json.loads(result["result"]["value"])
    report.title = report.stats.pop("title")
    if report.stats.get("rawMath"):
        report.console.append(f"{report.stats['rawMath']} formula(s) left as raw LaTeX")
    shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)
    path = out / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    report.screenshot = str(path)
    return report


def find_browser(explicit: str | None) -> str:
    if explicit:
        return explicit
    for name in BROWSERS:
        if found := shutil.which(name):
            return found
    raise SystemExit(
        "No Chromium found: install it (Debian/Ubuntu: `apt-get install chromium`) or pass --browser PATH."
    )


def check_site(
    site: Path, pages: list[str], out: Path, browser_path: str, settle: float = 1.0
) -> list[PageReport]:
    """Serves ``site`` and checks ``pages`` (paths relative to the site root) in headless Chromium."""
    if not (site / "index.html").is_file():
        raise SystemExit(f"No built site at {site}: run `make docs` (mkdocs build --strict) first.")
    out.mkdir(parents=True, exist_ok=True)
    server, base = serve(site)
    reports = []
    with tempfile.TemporaryDirectory(prefix="darling-chromium-") as profile:
        browser = Browser(browser_path, profile)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Page", "Runtime", "Log", "Network"):
                browser.send(f"{domain}.enable", session=session)
            for page in pages:
                name = page.strip("/").replace("/", "_") or "home"
                reports.append(check_page(browser, session, base + page.lstrip("/"), out, name, settle))
        finally:
            browser.close()
            server.shutdown()
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=Path("site"), help="the built site (default: site)")
    parser.add_argument("--out", type=Path, default=Path("site-check"), help="where screenshots go")
    parser.add_argument(
        "--page",
        action="append",
        dest="pages",
        help=f"a page path relative to the site root; repeatable (default: {', '.join(p or '/' for p in DEFAULT_PAGES)})",
    )
    parser.add_argument("--browser", help="Chromium or Chrome executable (default: found on PATH)")
    parser.add_argument(
        "--settle", type=float, default=1.0, help="seconds to keep listening after the load event"
    )
    args = parser.parse_args(argv)
    reports = check_site(
        args.site, args.pages or list(DEFAULT_PAGES), args.out, find_browser(args.browser), args.settle
    )
    failed = 0
    for report in reports:
        status = "ok" if not report.problems else f"{len(report.problems)} problem(s)"
        print(
            f"{status:>14}  {report.url}  title={report.title!r}  {report.stats}  screenshot={report.screenshot}"
        )
        for problem in report.problems:
            print(f"{'':>16}- {problem}")
        failed += bool(report.problems)
    print(
        f"{len(reports) - failed} of {len(reports)} pages loaded without console errors or failed requests."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
