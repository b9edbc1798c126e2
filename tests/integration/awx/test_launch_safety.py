"""A survey answer of the wrong type or outside its choices, and a destructive playbook
launched without its confirmation, are refused before any host is touched.

The jobs run the way AWX runs them (ansible-runner, survey answers as extra vars) against
an inventory laid out like the lab whose hosts are podman containers that do not exist:
had any play after the launch checks started, its tasks would show in the job's events
(and fail as unreachable). Nothing is started, so nothing can change.
"""
from __future__ import annotations

import pytest
import yaml

LAUNCH_TASKS = {"Launch variables have their types and choices", "Launch numbers are within their ranges",
                "Destructive steps are confirmed"}

ABSENT_INVENTORY = {
    "all": {
        "vars": {"ansible_connection": "containers.podman.podman"},
        "children": {
            "coordinator": {"hosts": {"dbfleet-t-awx-absent-coordinator": None}},
            "workers": {"hosts": {"dbfleet-t-awx-absent-worker1": None}},
            "redis": {"hosts": {"dbfleet-t-awx-absent-coordinator": None}},
            "postgres": {"children": {
                "postgres_primary": {"hosts": {"dbfleet-t-awx-absent-pg1": None}},
                "postgres_replicas": {"hosts": {"dbfleet-t-awx-absent-pg2": None}},
            }},
            "etcd": {"hosts": {"dbfleet-t-awx-absent-pg1": None}},
        },
    },
}

CASES = [
    # playbook, extra vars (the survey's answers), limit, what the refusal says
    ("playbooks/cutover.yml", {}, None, "Run it with -e dbfleet_cutover_confirm=true"),
    ("playbooks/cutover.yml", {"dbfleet_cutover_confirm": "false"}, None,
     "Run it with -e dbfleet_cutover_confirm=true"),
    ("playbooks/cutover.yml", {"dbfleet_cutover_confirm": "maybe"}, None,
     "argument 'dbfleet_cutover_confirm' is of type str and we were unable to convert to bool"),
    ("playbooks/cutover.yml", {"dbfleet_cutover_confirm": "true", "dbfleet_cutover_jobs": 64}, None,
     "dbfleet_cutover_jobs is 64; it must be between 1 and 16"),
    # a limit would have skipped the rollback's own localhost precondition play
    ("playbooks/cutover_rollback.yml", {}, "dbfleet-t-awx-absent-worker1",
     "Run it with -e dbfleet_cutover_rollback_confirm=true"),
    # phase 3 refuses before its server play, not only when it reaches the cutover
    ("playbooks/phase3.yml", {}, None, "Run it with -e dbfleet_cutover_confirm=true"),
    ("playbooks/phase3.yml", {"dbfleet_cutover_confirm": "true", "postgres_timescale_version": "14"},
     None, "value of postgres_timescale_version must be one of: 15, 16, 17, got: 14"),
    ("playbooks/phase2.yml", {"dbfleet_redis_smoke_ttl": "abc"}, None,
     "argument 'dbfleet_redis_smoke_ttl' is of type str and we were unable to convert to int"),
    ("playbooks/phase2.yml", {"dbfleet_redis_smoke_ttl": 0}, None,
     "dbfleet_redis_smoke_ttl is 0; it must be between 1 and 30"),
]


@pytest.fixture
def absent_inventory(tmp_path):
    path = tmp_path / "absent.yml"
    path.write_text(yaml.safe_dump(ABSENT_INVENTORY))
    return path


@pytest.mark.parametrize("playbook,extravars,limit,message", CASES,
                         ids=[f"{c[0].split('/')[-1]}-{i}" for i, c in enumerate(CASES)])
def test_refused_before_any_host_is_touched(run_job, absent_inventory, playbook, extravars, limit, message):
    job = run_job(playbook, extravars, absent_inventory, limit=limit, timeout=300)
    assert job.status == "failed" and job.rc != 0
    assert message in " ".join(job.stdout.split()), "the refusal does not say why"
    assert set(job.tasks) <= LAUNCH_TASKS, f"tasks beyond the launch checks started: {job.tasks}"
    assert job.total("changed") == 0 and job.total("dark") == 0


@pytest.mark.parametrize("playbook", ["playbooks/phase2.yml", "playbooks/cutover.yml",
                                      "playbooks/cutover_rollback.yml"])
def test_the_checks_pass_valid_answers_on(run_job, absent_inventory, survey_defaults, playbook):
    """The same checks let valid answers through: the job goes on to the next play (whose
    hosts do not exist here, so it stops there as unreachable)."""
    answers = survey_defaults(playbook)
    answers.update({k: "true" for k in ("dbfleet_cutover_confirm", "dbfleet_cutover_rollback_confirm")
                    if k in answers})
    job = run_job(playbook, answers, absent_inventory, timeout=300)
    assert set(job.tasks) - LAUNCH_TASKS, "no play after the launch checks started"
    assert job.total("changed") == 0
