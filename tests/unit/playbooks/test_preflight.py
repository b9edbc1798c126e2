"""playbooks/preflight.yml (imported by site.yml and phase5.yml) refuses impossible
inventories before anything changes. It reads the inventory only: every host here is an
address nobody answers on, so a check that tried to connect would fail as unreachable
instead of with its message."""
from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers.ansible import ansible_env
from helpers.containers import labenv

PLAYBOOK = labenv.ROOT / "playbooks" / "preflight.yml"
NOBODY = {"ansible_host": "198.18.255.254", "ansible_connection": "ssh",
          "ansible_ssh_common_args": "-o ConnectTimeout=2"}

GOOD = {
    "all": {
        "vars": {
            "patroni_etcd_restapi_password": "pw-r", "patroni_etcd_superuser_password": "pw-s",
            "patroni_etcd_replication_password": "pw-p", "pgbouncer_auth_password": "pw-a",
            "pgbouncer_admin_password": "pw-d", "pgbouncer_stats_password": "pw-t",
            "pgbouncer_setup_password": "pw-u",
            "pgbouncer_databases": [{"name": "darkreach"}],
        },
        "children": {
            "etcd": {"hosts": {"pg1": None, "pg2": None, "pg3": None}},
            "postgres": {"hosts": {"pg1": None, "pg2": None, "pg3": None},
                         "children": {"postgres_primary": {"hosts": {"pg1": None}},
                                      "postgres_replicas": {"hosts": {"pg2": None, "pg3": None}}}},
            "haproxy": {"hosts": {"app": None}},
            "pgbouncer": {"hosts": {"app": None}},
        },
    }
}


def inventory(**changes):
    inv = copy.deepcopy(GOOD)
    inv["all"]["vars"].update(NOBODY)
    for key, value in changes.items():
        if key in ("etcd", "postgres_primary"):
            target = (inv["all"]["children"]["etcd"] if key == "etcd"
                      else inv["all"]["children"]["postgres"]["children"]["postgres_primary"])
            target["hosts"] = {h: None for h in value}
        else:
            inv["all"]["vars"][key] = value
    return inv


def run(tmp_path, inv, ha: bool = True, playbook: Path = PLAYBOOK) -> subprocess.CompletedProcess:
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inv))
    env = ansible_env({"ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml"})
    extra = ["-e", "dbfleet_preflight_ha=true"] if ha else []
    return subprocess.run([str(labenv.VENV_BIN / "ansible-playbook"), "-i", str(path), str(playbook),
                           *extra], env=env, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=300)


def test_a_good_ha_inventory_passes_without_connecting(tmp_path):
    res = run(tmp_path, inventory())
    assert res.returncode == 0, res.stdout[-3000:]
    assert "UNREACHABLE" not in res.stdout
    assert "pw-" not in res.stdout  # the password check is no_log


@pytest.mark.parametrize("changes, message", [
    ({"postgres_primary": ["pg1", "pg2"]}, "a cluster has exactly one primary"),
    ({"etcd": ["pg1", "pg2"]}, "etcd needs an odd count"),
    ({"etcd": ["pg1", "pg2", "pg3", "app"]}, "etcd needs an odd count"),
    ({"etcd": ["pg1"]}, "one member is a single point of failure"),
    ({"patroni_etcd_dcs_preset": "fastest"}, "patroni_etcd_dcs_preset fastest does not exist"),
    ({"pgbouncer_default_pool_size": 120}, "a pool may open at most 97 server connections"),
    ({"pgbouncer_databases": [{"name": "darkreach", "pool_size": 500}]}, "pool_size of darkreach"),
    ({"pgbouncer_postgres_max_connections": 20, "pgbouncer_default_pool_size": 20},
     "a pool may open at most 17 server connections"),
    ({"patroni_etcd_replication_password": ""}, "patroni_etcd_replication_password are required"),
    ({"haproxy_replica_port": 5000}, "clash"),
    ({"pgbouncer_databases": [{"name": "pgbouncer"}]}, "not \"pgbouncer\""),
], ids=["two-primaries", "two-etcd", "four-etcd", "one-etcd", "unknown-preset", "default-pool",
        "database-pool", "small-max-connections", "missing-password", "port-clash",
        "admin-console-name"])
def test_impossible_inventories_are_refused_with_a_message(tmp_path, changes, message):
    res = run(tmp_path, inventory(**changes))
    out = " ".join(res.stdout.split())
    assert res.returncode != 0
    assert message in out, res.stdout[-3000:]
    assert "UNREACHABLE" not in res.stdout


def test_one_etcd_member_is_accepted_when_the_inventory_says_lab(tmp_path):
    res = run(tmp_path, inventory(etcd=["pg1"], patroni_etcd_etcd_allow_single_member=True))
    assert res.returncode == 0, res.stdout[-3000:]


def test_without_phase5_the_ha_checks_are_skipped_but_topology_is_checked(tmp_path):
    """site.yml and the lab inventory name etcd/pgbouncer hosts before phase 5 runs."""
    res = run(tmp_path, inventory(patroni_etcd_dcs_preset="fastest"), ha=False)
    assert res.returncode == 0, res.stdout[-3000:]
    res = run(tmp_path, inventory(postgres_primary=["pg1", "pg2"]), ha=False)
    assert res.returncode != 0
    assert "a cluster has exactly one primary" in " ".join(res.stdout.split())


def test_an_inventory_without_ha_groups_skips_the_ha_checks(tmp_path):
    inv = inventory()
    for group in ("etcd", "haproxy", "pgbouncer"):
        del inv["all"]["children"][group]
    inv["all"]["vars"]["patroni_etcd_replication_password"] = ""
    res = run(tmp_path, inv)
    assert res.returncode == 0, res.stdout[-3000:]


def test_phase5_stops_in_preflight_before_touching_a_host(tmp_path):
    """The whole phase5.yml with two primaries: it fails in preflight, and no play after it
    starts (they would have to connect, and the hosts are unreachable)."""
    res = run(tmp_path, inventory(postgres_primary=["pg1", "pg2"]), ha=False,
              playbook=labenv.ROOT / "playbooks" / "phase5.yml")
    assert res.returncode != 0
    assert "a cluster has exactly one primary" in " ".join(res.stdout.split())
    assert "Phase 5 - etcd and Patroni" not in res.stdout
    assert "UNREACHABLE" not in res.stdout
