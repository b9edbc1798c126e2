#!/usr/bin/env python3
"""Run a playbook the way an AWX job runs it: ansible-runner with a private data dir, the
job template's survey defaults (awx/job_templates.yml) as extra vars, plus -e overrides
(the answers a person gives), the checkout as the project directory.

    .venv/bin/python awx/run_job.py playbooks/phase2.yml --inventory inventories/lab/hosts.yml
    .venv/bin/python awx/run_job.py playbooks/phase3.yml --inventory inventories/lab/hosts.yml \
        -e dbfleet_cutover_confirm=true

Prints the job's status and the recap's changed/failed counts; exits with the job's rc.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_FILE = ROOT / "awx" / "job_templates.yml"


def survey_defaults(playbook: str, templates_file: Path = TEMPLATES_FILE) -> dict:
    """The extra vars AWX sends when every survey question keeps its default: an optional
    question without a default sends nothing (the inventory's value stays in force)."""
    templates = yaml.safe_load(Path(templates_file).read_text())["dbfleet_job_templates"]
    entry = next((t for t in templates if t["playbook"] == playbook), None)
    if entry is None:
        raise SystemExit(f"run_job: no job template for {playbook} in {templates_file}")
    answers = {}
    for question in entry.get("survey") or []:
        default = question.get("default", "")
        if default in ("", None):
            continue
        answers[question["variable"]] = int(default) if question["type"] == "integer" else default
    return answers


def read_job(artifacts: Path) -> dict:
    """Status, rc, per-host recap and the tasks that started, from the job's artifacts."""
    job = {"status": (artifacts / "status").read_text().strip(),
           "rc": int((artifacts / "rc").read_text().strip()), "stats": {}, "tasks": []}
    for path in sorted((artifacts / "job_events").glob("*.json"),
                       key=lambda p: int(p.name.split("-")[0])):
        event = json.loads(path.read_text())
        if event.get("event") == "playbook_on_stats":
            job["stats"] = {k: event["event_data"].get(k) or {}
                            for k in ("ok", "changed", "failures", "dark", "skipped")}
        elif event.get("event") == "playbook_on_task_start":
            job["tasks"].append(event["event_data"]["task"])
    return job


def run(playbook: str, extravars: dict, inventory: Path, data_dir: Path, ident: str,
        limit: str | None = None, env: dict | None = None, timeout: int | None = None,
        runner: str | None = None) -> tuple[dict, str]:
    """One ansible-runner job; returns (read_job(...), its stdout)."""
    (data_dir / "env").mkdir(parents=True, exist_ok=True)
    (data_dir / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    runner = runner or str(Path(sys.executable).parent / "ansible-runner")
    cmd = [runner, "run", str(data_dir), "--project-dir", str(ROOT), "-p", playbook,
           "--inventory", str(Path(inventory).resolve()), "--ident", ident]
    if limit:
        cmd += ["--limit", limit]
    res = subprocess.run(cmd, env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=timeout)
    return read_job(data_dir / "artifacts" / ident), res.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("playbook", help="e.g. playbooks/phase2.yml (as in awx/job_templates.yml)")
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--limit")
    parser.add_argument("-e", dest="answers", action="append", default=[], metavar="VAR=VALUE",
                        help="a survey answer (repeatable)")
    parser.add_argument("--data-dir", help="the private data dir (default: a new temporary one)")
    args = parser.parse_args(argv)
    extravars = survey_defaults(args.playbook)
    for answer in args.answers:
        key, sep, value = answer.partition("=")
        if not sep:
            parser.error(f"-e {answer}: expected VAR=VALUE")
        extravars[key] = value
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="dbfleet-job-"))
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env.setdefault("CONTAINERS_CONF", str(ROOT / "tools" / "containers.conf"))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".cache" / "collections"))
    ident = Path(args.playbook).stem
    job, stdout = run(args.playbook, extravars, Path(args.inventory), data_dir, ident,
                      limit=args.limit, env=env)
    print(stdout)
    changed = sum(job["stats"].get("changed", {}).values())
    failed = sum(job["stats"].get("failures", {}).values()) + sum(job["stats"].get("dark", {}).values())
    print(f"run_job: {args.playbook} with {json.dumps(extravars)}: {job['status']} "
          f"(rc {job['rc']}), changed={changed}, failed={failed}; artifacts in "
          f"{data_dir / 'artifacts' / ident}")
    return job["rc"]


if __name__ == "__main__":
    sys.exit(main())
