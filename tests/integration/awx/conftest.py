"""Running playbooks the way AWX runs a job: ``ansible-runner run`` with a private data
dir (``env/extravars`` holds the survey's answers), the project directory being this
checkout (AWX's project sync) and an inventory file.

* ``run_job(playbook, extravars, inventory, ...)`` runs one job and returns a ``Job``:
  status, rc, stdout, the per-host stats of the recap and the tasks that started.
* ``survey_defaults(playbook)``: the extra vars an AWX launch with every survey question
  left at its default sends (an optional question without a default sends nothing).
"""
from __future__ import annotations

import itertools
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from helpers.ansible import ansible_env
from helpers.containers import ROOT, labenv

TEMPLATES = yaml.safe_load((ROOT / "awx" / "job_templates.yml").read_text())["dbfleet_job_templates"]
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


def survey_defaults_for(playbook: str) -> dict:
    entry = next(t for t in TEMPLATES if t["playbook"] == playbook)
    answers = {}
    for question in entry.get("survey") or []:
        default = question.get("default", "")
        if default in ("", None):
            continue  # AWX sends nothing for an unanswered optional question
        answers[question["variable"]] = int(default) if question["type"] == "integer" else default
    return answers


@pytest.fixture
def survey_defaults():
    return survey_defaults_for


@pytest.fixture
def run_job(tmp_path):
    def run(playbook: str, extravars: dict, inventory: Path, limit: str | None = None,
            timeout: int = 1800) -> Job:
        ident = f"job{next(_IDENT)}"
        pdd = tmp_path / "runner"
        (pdd / "env").mkdir(parents=True, exist_ok=True)
        (pdd / "env" / "extravars").write_text(yaml.safe_dump(extravars))
        cmd = [str(labenv.VENV_BIN / "ansible-runner"), "run", str(pdd),
               "--project-dir", str(ROOT), "-p", playbook, "--inventory", str(inventory),
               "--ident", ident]
        if limit:
            cmd += ["--limit", limit]
        env = ansible_env({"ANSIBLE_FORCE_COLOR": "0"})
        env.pop("ANSIBLE_STDOUT_CALLBACK")  # ansible-runner brings its own, as in AWX
        env.pop("ANSIBLE_CALLBACK_RESULT_FORMAT")
        res = subprocess.run(cmd, env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=timeout)
        artifacts = pdd / "artifacts" / ident
        status = (artifacts / "status").read_text().strip()
        rc = int((artifacts / "rc").read_text().strip())
        stats, tasks = {}, []
        for path in sorted((artifacts / "job_events").glob("*.json"),
                           key=lambda p: int(p.name.split("-")[0])):
            event = json.loads(path.read_text())
            if event.get("event") == "playbook_on_stats":
                stats = {k: event["event_data"].get(k) or {}
                         for k in ("ok", "changed", "failures", "dark", "skipped")}
            elif event.get("event") == "playbook_on_task_start":
                tasks.append(event["event_data"]["task"])
        print(res.stdout[-6000:])
        return Job(status=status, rc=rc, stdout=res.stdout, stats=stats, tasks=tasks)

    return run
