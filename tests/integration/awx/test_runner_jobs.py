"""Phase playbooks run the way AWX runs a job (ansible-runner, a private data dir, the
survey defaults as extra vars) against two containers of our own laid out like the lab
(coordinator = redis, worker1), through the podman connection. The first job converges,
the second changes nothing."""
from __future__ import annotations

import pytest
import yaml

from helpers.containers import Container

COORDINATOR = "dbfleet-t-awx-coordinator"
WORKER = "dbfleet-t-awx-worker1"
PASSWORDS = {
    "redis_sidecar_admin_password": "awx-admin-s3cret-pw",
    "redis_sidecar_coordinator_password": "awx-coordinator-s3cret-pw",
    "redis_sidecar_worker_password": "awx-worker-s3cret-pw",
    "redis_sidecar_monitor_password": "awx-monitor-s3cret-pw",
}
INVENTORY = {
    "all": {
        "vars": {"ansible_connection": "containers.podman.podman",
                 "ansible_python_interpreter": "/usr/bin/python3",
                 "app_env_services": []},
        "children": {
            "coordinator": {"hosts": {COORDINATOR: None}},
            "workers": {"hosts": {WORKER: None}},
            "redis": {"hosts": {COORDINATOR: PASSWORDS}},
            "postgres": {"children": {"postgres_primary": {"hosts": {}},
                                      "postgres_replicas": {"hosts": {}}}},
            "etcd": {"hosts": {}},
            "pgbouncer": {"hosts": {COORDINATOR: None}},
            "haproxy": {"hosts": {COORDINATOR: None}},
            "monitoring": {"hosts": {}},
        },
    },
}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    hosts = [Container(name=COORDINATOR), Container(name=WORKER)]
    try:
        for host in hosts:
            host.start()
        inventory = tmp_path_factory.mktemp("awx-inventory") / "hosts.yml"
        inventory.write_text(yaml.safe_dump(INVENTORY))
        yield inventory
    finally:
        for host in hosts:
            host.remove()


@pytest.mark.containers
@pytest.mark.parametrize("playbook", ["playbooks/preflight.yml", "playbooks/phase2.yml"])
def test_job_with_survey_defaults_converges_then_changes_nothing(fleet, run_job, survey_defaults, playbook):
    answers = survey_defaults(playbook)
    first = run_job(playbook, answers, fleet)
    assert first.status == "successful" and first.rc == 0, first.stdout[-3000:]
    assert first.total("failures") == 0 and first.total("dark") == 0
    second = run_job(playbook, answers, fleet)
    assert second.status == "successful" and second.rc == 0, second.stdout[-3000:]
    assert second.total("changed") == 0, f"second job changed: {second.stats['changed']}"
    for password in PASSWORDS.values():
        assert password not in first.stdout + second.stdout
    if playbook.endswith("phase2.yml"):
        assert first.total("changed") > 0, "the first phase 2 job converged nothing"
        assert "active worker(s) in Redis" in second.stdout
