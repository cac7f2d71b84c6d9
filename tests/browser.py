"""Helpers for tests against a live `assistant serve` (and Debian's Chromium through Playwright).

``serve(...)`` starts the real command on a free port with its own environment and stops it
afterwards; ``launch_chromium()`` starts the browser the way tests/test_browser.py does.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
SETUP = "run ./scripts/setup-browser (it installs Chromium with apt-get and axe-core with npm)"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def executable() -> Path:
    """The `assistant` command of this virtualenv."""
    exe = Path(sys.executable).with_name("assistant")
    if not exe.exists():
        pytest.fail(f"{exe} is missing: pip install -e '.[test]'")
    return exe


def wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    """Wait until GET /readyz answers 200; fail with the server's log if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"assistant serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"assistant serve was not ready after {timeout}s:\n{log.read_text()}")


def server_env(db: Path, **extra: str) -> dict[str, str]:
    """The environment of a test server: this one, a SQLite file, no limits unless given."""
    env = {**os.environ, "ASSISTANT_DB": str(db), **extra}
    for name in ("ASSISTANT_DATABASE_URL", "ASSISTANT_RATE_LIMIT", "ASSISTANT_CORPUS"):
        if name not in extra:
            env.pop(name, None)
    return env


@contextmanager
def serve(env: dict[str, str], log: Path, workers: int = 1) -> Iterator[str]:
    """`assistant serve` on a free port; yields its base URL, stops it (SIGTERM) after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [str(executable()), "serve", "--port", str(port), "--workers", str(workers)]
    with log.open("ab") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def launch_chromium(playwright):
    """Debian's Chromium, driven by Playwright (its own browser downloads do not work here)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: {SETUP}")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def sync_playwright():
    """Playwright's sync API (the test extra installs it)."""
    try:
        from playwright.sync_api import sync_playwright as start
    except ImportError:  # pragma: no cover
        pytest.fail("the playwright package is missing: pip install -e '.[test]'")
    return start


# Records Content-Security-Policy violations; added through the DevTools protocol, which the
# page's CSP does not govern.
CSP_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@dataclass
class Watched:
    """A page whose console errors, uncaught exceptions and CSP violations are collected."""

    page: object
    errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        csp = self.page.evaluate("window.__csp || []")
        return self.errors + [f"CSP violation: {v}" for v in csp]


def watch(context) -> Watched:
    """A new page of the context (made with CSP_WATCH as an init script), watched."""
    page = context.new_page()
    watched = Watched(page)
    page.on(
        "console",
        lambda m: (
            watched.errors.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: watched.errors.append(f"page error: {e}"))
    return watched
