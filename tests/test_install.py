"""The wheel: built, installed (not editable) in a fresh virtualenv, run from another folder."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
from pathlib import Path

import pytest
from conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A virtualenv with the wheel installed; dependencies come from the test environment."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp / "dist"),
            str(ROOT),
        ],
        check=True,
    )
    wheel = next((tmp / "dist").glob("assistant-*.whl"))
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=True)
    site = next(env_dir.glob("lib/python*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([env_dir / "bin" / "pip", "install", "-q", "--no-deps", str(wheel)], check=True)
    return env_dir


def run(env_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [env_dir / "bin" / "assistant", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )


def test_the_installed_command_answers_from_any_folder(installed, tmp_path):
    out = run(installed, "ask", "What is Intempus?", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "payroll" in json.loads(out.stdout)["answers"][0]["text"]
    where = subprocess.run(
        [
            installed / "bin" / "python",
            "-c",
            "import assistant, assistant.config as c;"
            "print(assistant.__file__); print(c.bundled('corpus'))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(installed) in where and str(ROOT) not in where


def test_the_installed_server_serves_the_page_and_its_assets(installed, tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [installed / "bin" / "assistant", "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        page = urllib.request.urlopen(base + "/").read().decode()
        assert "Python for Backend" in page
        css = urllib.request.urlopen(base + "/static/style.css")
        assert css.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
