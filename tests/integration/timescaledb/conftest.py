"""Fixtures for the TimescaleDB module tests.

* ``timescale_server``: one Debian 13 container (PostgreSQL 17, the Apache-licensed
  TimescaleDB 2.19 and pg_cron 1.6), reachable over TCP with a scram password.
* ``tsl_server``: PGlite with the Timescale-licensed TimescaleDB build (LAB.md),
  served on 127.0.0.1 by ``pglite_tsl_server.mjs``; stopped by its PID.
* ``run_module``: runs one of our modules the way a user does, through a tiny
  playbook and ``ansible-playbook`` on localhost, and returns the task result.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from helpers.containers import Container, labenv

HERE = Path(__file__).resolve().parent
ROOT = labenv.ROOT
PASSWORD = "dbfleet-test-pw"
TEST_DB = "tsdb"
CONTAINER_NAME = "dbfleet-t-timescale"
PG_PACKAGES = ("postgresql-17", "postgresql-17-timescaledb", "postgresql-17-cron")

SERVER_CONF = f"""\
# dbfleet TimescaleDB module tests
listen_addresses = '*'
password_encryption = 'scram-sha-256'
shared_preload_libraries = 'timescaledb,pg_cron,pg_stat_statements'
max_worker_processes = 32
timescaledb.telemetry_level = off
cron.database_name = 'postgres'
cron.use_background_workers = on
max_connections = 60
"""


def setup_server(container) -> None:
    """Install and configure PostgreSQL 17 + TimescaleDB + pg_cron in ``container``."""
    # The apt archive directory is shared with other test containers: wait for its lock.
    for attempt in range(40):
        try:
            container.apt_install(*PG_PACKAGES)
            break
        except AssertionError as exc:
            if "lock" not in str(exc) or attempt == 39:
                raise
            time.sleep(15)
    container.run("cat > /etc/postgresql/17/main/conf.d/50-dbfleet-test.conf", stdin=SERVER_CONF)
    container.run("printf '%s\\n' 'host all all 198.18.0.0/15 scram-sha-256' "
                  ">> /etc/postgresql/17/main/pg_hba.conf")
    container.run("systemctl restart postgresql@17-main")
    container.run("for i in $(seq 1 60); do pg_isready -q && exit 0; sleep 1; done; exit 1")
    script = f"""
ALTER ROLE postgres PASSWORD '{PASSWORD}';
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE DATABASE {TEST_DB};
\\c {TEST_DB}
CREATE EXTENSION IF NOT EXISTS timescaledb;
"""
    container.run("psql -v ON_ERROR_STOP=1 -q", user="postgres", stdin=script)


@pytest.fixture(scope="session")
def timescale_server():
    """One container for the whole session, removed at the end (by name).

    It is started directly rather than through ``container_factory``: that fixture's
    teardown force-removes the shared ``dbfleet-test`` network, and with it any other
    session's containers on it. Only our own container is removed here.
    DBFLEET_TS_HOST reuses an already prepared server (while developing the tests).
    """
    if os.environ.get("DBFLEET_TS_HOST"):
        yield {"host": os.environ["DBFLEET_TS_HOST"], "port": 5432, "user": "postgres",
               "password": PASSWORD, "db": TEST_DB, "container": None}
        return
    container = Container(name=CONTAINER_NAME)
    try:
        container.start()
        setup_server(container)
        yield {"host": container.ip, "port": 5432, "user": "postgres", "password": PASSWORD,
               "db": TEST_DB, "container": container}
    finally:
        container.remove()


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


@pytest.fixture(scope="session")
def ansible_env():
    labenv.ensure_collection_link()
    return labenv.podman_env({
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_NOCOLOR": "1",
    })


@pytest.fixture
def run_module(tmp_path, ansible_env):
    """run_module(server, module, args, check=False, diff=False) -> task result dict."""
    counter = {"n": 0}

    def run(server, module, args, check=False, diff=False):
        counter["n"] += 1
        params = {"login_host": server["host"], "login_port": server["port"],
                  "login_user": server["user"], "login_password": server["password"],
                  "login_db": server["db"], "ssl_mode": "disable"}
        params.update(args)
        play = [{"hosts": "localhost", "gather_facts": False, "connection": "local",
                 "tasks": [{"name": "module under test",
                            f"darkreach.dbfleet.{module}": params}]}]
        path = tmp_path / f"play{counter['n']}.yml"
        path.write_text(yaml.safe_dump(play, sort_keys=False))
        cmd = [str(labenv.VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(path)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        res = subprocess.run(cmd, env=ansible_env, cwd=tmp_path, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
        try:
            out = json.loads(res.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"not JSON: {res.stdout[-3000:]}\n{res.stderr[-3000:]}") from exc
        task = out["plays"][0]["tasks"][0]
        result = task["hosts"]["localhost"]
        return result

    return run

