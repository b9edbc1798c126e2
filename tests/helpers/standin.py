"""The Supabase stand-in for tests: the lab_supabase role applied to a container
(PostgreSQL 17 on trixie, 15 on bookworm), and how to reach it. The fixtures
``standin`` / ``standin17`` (tests/integration/conftest.py) hand these out, one
container per suite and session."""
from __future__ import annotations

import json
import subprocess
import textwrap
import time
from pathlib import Path

import psycopg2
import pytest

from helpers.containers import ROOT, labenv

ADMIN_PW = "std-admin-s3cret"
POSTGRES_PW = "std-postgres-s3cret"
AUTHENTICATOR_PW = "std-authenticator-s3cret"
SUITES = {"trixie": ("localhost/dbfleet-trixie:latest", 17),
          "bookworm": ("localhost/dbfleet-bookworm:latest", 15)}


def run_playbook(container, playbook: str, extra_args: tuple = (), tmp_path: Path | None = None,
                 timeout: float = 1200, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a playbook against one container through the podman connection."""
    workdir = Path(tmp_path or "/tmp")
    inv = workdir / f"{container.name}.inventory.yml"
    inv.write_text(json.dumps({"all": {"hosts": {container.name: {
        "ansible_connection": "containers.podman.podman",
        "ansible_host": container.name,
        "ansible_python_interpreter": "/usr/bin/python3"}}}}))
    pb = workdir / f"{container.name}.playbook.yml"
    pb.write_text(textwrap.dedent(playbook))
    labenv.ensure_collection_link()
    cmd = [str(labenv.VENV_BIN / "ansible-playbook"), "-i", str(inv), str(pb), *extra_args]
    return subprocess.run(cmd, env=labenv.podman_env({"ANSIBLE_FORCE_COLOR": "0",
                                                        "ANSIBLE_NOCOLOR": "1", **(env or {})}),
                          cwd=str(ROOT), text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)


SUPABASE_PLAY = f"""
- name: Supabase stand-in
  hosts: all
  gather_facts: true
  roles:
    - role: darkreach.dbfleet.lab_supabase
      vars:
        lab_supabase_admin_password: {ADMIN_PW}
        lab_supabase_postgres_password: {POSTGRES_PW}
        lab_supabase_authenticator_password: {AUTHENTICATOR_PW}
"""


def recap(output: str) -> dict:
    """The PLAY RECAP counters of the single host."""
    for line in output.splitlines()[::-1]:
        if " : ok=" in line:
            return {k: int(v) for k, v in (f.split("=") for f in line.split(":", 1)[1].split())}
    raise AssertionError(f"no PLAY RECAP in output:\n{output[-3000:]}")


def connect(host: str, user: str = "postgres", password: str = POSTGRES_PW, port: int = 5432,
            dbname: str = "postgres", **kw):
    deadline = time.monotonic() + 60
    while True:
        try:
            return psycopg2.connect(host=host, port=port, user=user, password=password,
                                    dbname=dbname, connect_timeout=5, sslmode="disable", **kw)
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


class Standin:
    def __init__(self, container, suite: str, major: int, first_run: subprocess.CompletedProcess):
        self.container = container
        self.suite = suite
        self.major = major
        self.first_run = first_run

    @property
    def ip(self) -> str:
        return self.container.ip

    def connect(self, **kw):
        return connect(self.ip, **kw)


_cache: dict = {}


def standin_for(suite: str, container_factory, tmp_path_factory) -> Standin:
    if suite not in _cache:
        image, major = SUITES[suite]
        if not labenv.image_exists(image):
            pytest.skip(f"image {image} is missing: python3 tools/image.py --suite {suite}")
        c = container_factory(f"dbfleet-t-std-{suite}", image)
        tmp = tmp_path_factory.mktemp(f"std-{suite}")
        res = run_playbook(c, SUPABASE_PLAY, tmp_path=tmp)
        assert res.returncode == 0, res.stdout[-6000:]
        _cache[suite] = Standin(c, suite, major, res)
        _cache[suite].tmp = tmp
    return _cache[suite]


