"""Fixtures for the TimescaleDB module tests.

* ``timescale_server`` (tests/integration/conftest.py): PostgreSQL 17 + TimescaleDB.
* ``tsl_server``: PGlite with the Timescale-licensed TimescaleDB build (LAB.md),
  served on 127.0.0.1 by ``pglite_tsl_server.mjs``; stopped by its PID.
* ``run_module``: runs one of our modules the way a user does, through a tiny
  playbook and ``ansible-playbook`` on localhost, and returns the task result.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from helpers import ansible as helpers_ansible
from helpers.containers import labenv

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def tsl_server():
    """PGlite + Timescale-licensed TimescaleDB on 127.0.0.1:<free port>."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if not node or not npm:
        pytest.skip("node/npm are needed for the Timescale-licensed PGlite server")
    workdir = labenv.CACHE / "pglite"
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "package.json", workdir / "package.json")
    shutil.copy(HERE / "pglite_tsl_server.mjs", workdir / "pglite_tsl_server.mjs")
    marker = workdir / "node_modules" / "@unni-craftsman" / "pglite" / "package.json"
    if not marker.exists():
        subprocess.run([npm, "install", "--legacy-peer-deps", "--no-audit", "--no-fund"],
                       cwd=workdir, check=True, timeout=900,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    port = free_port()
    log = open(workdir / "server.log", "w")
    proc = subprocess.Popen([node, "pglite_tsl_server.mjs", str(port)], cwd=workdir,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"PGlite server exited: {(workdir / 'server.log').read_text()[-2000:]}")
            if "LISTENING" in (workdir / "server.log").read_text():
                break
            if time.monotonic() > deadline:
                pytest.fail("PGlite server did not start in 180 s")
            time.sleep(0.5)
        yield {"host": "127.0.0.1", "port": port, "user": "postgres", "password": "postgres",
               "db": "postgres"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def run_module(tmp_path):
    """run_module(server, module, args, check=False, diff=False) -> task result dict."""

    def run(server, module, args, check=False, diff=False):
        params = {"login_host": server["host"], "login_port": server["port"],
                  "login_user": server["user"], "login_password": server["password"],
                  "login_db": server["db"], "ssl_mode": "disable"}
        params.update(args)
        return helpers_ansible.run_module(module, params, tmp_path, check=check, diff=diff)

    return run
