"""Shared pytest fixtures: the podman API service for molecule, and containers
started from the lab image for integration tests. Everything started here is
removed here (by name for containers and networks, by PID for processes).
"""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from helpers import containers
from helpers.containers import Container, labenv

# Unit tests import module code as ansible_collections.darkreach.dbfleet...
labenv.ensure_collection_link()
import sys  # noqa: E402

sys.path.insert(0, str(labenv.COLLECTIONS_DIR))


# Session-scoped fixtures that start one shared container with a fixed name: every
# test using one of them runs in the same xdist worker (group), and so does the rest
# of its file, which may start containers of its own around it.
SHARED_SERVERS = {
    "timescale_server": "shared-pg", "standin": "shared-pg", "standin17": "shared-pg",
    "redis_server": "shared-redis", "promtool": "shared-promtool", "tsl_server": "shared-tsl",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Groups for `pytest -n N --dist loadgroup` (make test): a test that uses a shared
    server goes to that server's group, with its whole file; any other test goes with
    its file (module-scoped containers have fixed names); each molecule scenario is a
    unit of its own (its containers are named per scenario)."""
    file_group: dict[str, str] = {}
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            if fixture in SHARED_SERVERS:
                file_group.setdefault(item.nodeid.split("::")[0], SHARED_SERVERS[fixture])
                break
    for item in items:
        path = item.nodeid.split("::")[0]
        if item.get_closest_marker("molecule"):
            continue
        group = file_group.get(path, path)
        item.add_marker(pytest.mark.xdist_group(group))
    # The longest molecule scenarios first: `make test` passes --no-loadscope-reorder, so xdist
    # hands out work in this order, and they no longer start last and stretch the run (the
    # default order puts single-test units, i.e. every scenario, after all test files).
    items.sort(key=_duration_rank)


LONGEST_SCENARIOS = ("patroni_ha", "cutover", "pgbackrest", "postgres_exporter",
                     "pgbouncer_exporter", "postgres_timescale")


def _duration_rank(item) -> int:
    if item.get_closest_marker("molecule") and hasattr(item, "callspec"):
        for rank, name in enumerate(LONGEST_SCENARIOS):
            if item.callspec.id.startswith(name):
                return rank
    return len(LONGEST_SCENARIOS)


def pytest_configure(config):
    config.addinivalue_line("markers", "containers: starts podman containers (slow)")
    config.addinivalue_line("markers", "molecule: runs a molecule scenario (slow)")


@pytest.fixture(scope="session")
def podman_service():
    """`podman system service` on a project-local socket: the Docker-compatible API
    that molecule's docker driver and community.docker talk to. Stopped by PID."""
    # One socket per test session: two sessions never share (or delete) each other's.
    sock = labenv.CACHE / f"podman-{os.getpid()}.sock"
    sock.parent.mkdir(parents=True, exist_ok=True)
    if sock.exists():
        sock.unlink()
    proc = subprocess.Popen([labenv.podman_path(), "system", "service", "--time=0",
                             f"unix://{sock}"], env=labenv.podman_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("podman system service did not create its socket")
        time.sleep(0.2)
    try:
        yield f"unix://{sock}"
    finally:
        sock.unlink(missing_ok=True)
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def container_factory():
    """Start containers from the lab image; all of them are removed at the end."""
    started: list[Container] = []

    def make(name: str, image: str = labenv.DEFAULT_IMAGE) -> Container:
        c = Container(name=name, image=image).start()
        started.append(c)
        return c

    yield make
    for c in started:
        c.remove()
    containers.remove_network()
