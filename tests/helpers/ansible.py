"""Run one of the collection's modules the way a user does: a one-task playbook on
localhost through ``ansible-playbook`` (json callback), returning the task's result.

Shared by the module integration tests (tests/integration/*/conftest.py)::

    from helpers.ansible import ansible_env, run_module
    result = run_module("redis_fleet_status", {...}, workdir=tmp_path, check=True)
"""
from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import yaml

from helpers.containers import labenv

_COUNTER = itertools.count(1)


def ansible_env(extra: dict | None = None) -> dict:
    """The environment for ansible-playbook: our checkout as the collection, JSON output."""
    labenv.ensure_collection_link()
    env = {
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_NOCOLOR": "1",
    }
    env.update(extra or {})
    return labenv.podman_env(env)


def run_playbook(play: list, workdir: Path, check: bool = False, diff: bool = False,
                 env: dict | None = None, timeout: int = 900) -> dict:
    """Run ``play`` (a list of plays) on localhost; return the parsed JSON callback output."""
    path = Path(workdir) / f"play{next(_COUNTER)}.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    cmd = [str(labenv.VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(path)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    res = subprocess.run(cmd, env=env or ansible_env(), cwd=workdir, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    try:
        return json.loads(res.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"not JSON: {res.stdout[-3000:]}\n{res.stderr[-3000:]}") from exc


def run_module(module: str, params: dict, workdir: Path, check: bool = False,
               diff: bool = False, env: dict | None = None) -> dict:
    """Run ``darkreach.dbfleet.<module>`` with ``params``; return the task result."""
    play = [{"hosts": "localhost", "gather_facts": False, "connection": "local",
             "tasks": [{"name": "module under test", f"darkreach.dbfleet.{module}": params}]}]
    out = run_playbook(play, workdir, check=check, diff=diff, env=env)
    return out["plays"][0]["tasks"][0]["hosts"]["localhost"]
