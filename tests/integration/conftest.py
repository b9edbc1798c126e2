"""Fixtures shared by the integration tests.

* ``timescale_server``: one Debian 13 container for the session (PostgreSQL 17, the
  Apache-licensed TimescaleDB 2.19 and pg_cron 1.6), reachable over TCP with a scram
  password; database ``tsdb`` has the timescaledb extension.
* ``standin`` (PostgreSQL 17 and 15) / ``standin17``: containers with the lab_supabase
  role applied (the Supabase stand-in), reached over their 198.18.2.0/24 addresses,
  prefixed dbfleet-t-std- and removed by the session's container_factory.
* ``run_playbook``: a playbook against one container through the podman connection.
"""
from __future__ import annotations

import os
import time

import pytest

from helpers.containers import Container
from helpers.standin import Standin, standin_for

PASSWORD = "dbfleet-test-pw"
TEST_DB = "tsdb"
CONTAINER_NAME = "dbfleet-t-timescale"
PG_PACKAGES = ("postgresql-17", "postgresql-17-timescaledb", "postgresql-17-cron",
               "python3-psycopg2")  # modules also run inside (cutover tests)

SERVER_CONF = """\
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


# --- the Supabase stand-in (helpers/standin.py) ----------------------------------

@pytest.fixture(scope="session", params=["trixie", "bookworm"])
def standin(request, container_factory, tmp_path_factory) -> Standin:
    """A converged Supabase stand-in, once per Debian suite (PostgreSQL 17 and 15)."""
    return standin_for(request.param, container_factory, tmp_path_factory)


@pytest.fixture(scope="session")
def standin17(container_factory, tmp_path_factory) -> Standin:
    return standin_for("trixie", container_factory, tmp_path_factory)
