"""Running playbooks the way AWX runs a job, through awx/run_job.py: ``ansible-runner run``
with a private data dir (``env/extravars`` holds the survey's answers), the project
directory being this checkout (AWX's project sync) and an inventory file.

* ``run_job(playbook, extravars, inventory, ...)`` runs one job and returns a ``Job``:
  status, rc, stdout, the per-host stats of the recap and the tasks that started.
* ``survey_defaults(playbook)``: the extra vars an AWX launch with every survey question
  left at its default sends (an optional question without a default sends nothing).
"""
from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpers.ansible import ansible_env
from helpers.containers import ROOT, labenv

sys.path.insert(0, str(ROOT / "awx"))
import run_job as awx_run_job  # noqa: E402

_IDENT = itertools.count(1)


@dataclass
class Job:
    status: str
    rc: int
    stdout: str
    stats: dict = field(default_factory=dict)
    tasks: list = field(default_factory=list)

    def total(self, key: str) -> int:
        return sum(self.stats.get(key, {}).values())


@pytest.fixture
def survey_defaults():
    return awx_run_job.survey_defaults


@pytest.fixture
def run_job(tmp_path):
    def run(playbook: str, extravars: dict, inventory: Path, limit: str | None = None,
            timeout: int = 1800) -> Job:
        env = ansible_env({"ANSIBLE_FORCE_COLOR": "0"})
        env.pop("ANSIBLE_STDOUT_CALLBACK")  # ansible-runner brings its own, as in AWX
        env.pop("ANSIBLE_CALLBACK_RESULT_FORMAT")
        job, stdout = awx_run_job.run(playbook, extravars, inventory, tmp_path / "runner",
                                      f"job{next(_IDENT)}", limit=limit, env=env,
                                      timeout=timeout,
                                      runner=str(labenv.VENV_BIN / "ansible-runner"))
        print(stdout[-6000:])
        return Job(status=job["status"], rc=job["rc"], stdout=stdout, stats=job["stats"],
                   tasks=job["tasks"])

    return run
