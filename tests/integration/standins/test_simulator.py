"""The fleet simulator (lab_fleet_simulator role) in its own container against the
PostgreSQL 17 stand-in: it keeps running while PostgreSQL is stopped and restarted
underneath it, and nothing it acknowledged is missing afterwards."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest

from helpers.standin import POSTGRES_PW, recap, run_playbook

pytestmark = pytest.mark.containers

SIM_PORT = 9640


def sim_play(db_ip: str, env: str | None = None) -> str:
    env = env or (f"DATABASE_URL=postgresql://postgres:{POSTGRES_PW}@{db_ip}:5432/postgres\\n"
                  f"REPLICA_DATABASE_URL=postgresql://postgres:{POSTGRES_PW}@{db_ip}:6543/postgres\\n"
                  "DB_MAX_CONNECTIONS=6\\n")
    return f"""
- name: Fleet simulator
  hosts: all
  gather_facts: true
  pre_tasks:
    - name: The env file app_env would write
      ansible.builtin.copy:
        dest: /opt/darkreach/.env
        content: "{env}"
        mode: "0600"
      no_log: true
    - name: Its owner
      ansible.builtin.command: chown -R darkreach:darkreach /opt/darkreach
      changed_when: false
      failed_when: false
  roles:
    - role: darkreach.dbfleet.lab_fleet_simulator
      vars:
        lab_fleet_simulator_nodes: 6
        lab_fleet_simulator_listen: "0.0.0.0:{SIM_PORT}"
        lab_fleet_simulator_id_prefix: sim-test
"""


def stats(ip: str, path: str = "/stats") -> dict:
    with urllib.request.urlopen(f"http://{ip}:{SIM_PORT}{path}", timeout=10) as resp:
        return json.load(resp)


def wait_for(predicate, timeout: float = 180, step: float = 2):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
            if value:
                return value
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)


def writes(s: dict) -> int:
    return sum(s["acknowledged"].values())


@pytest.fixture(scope="module")
def simulator(standin17, container_factory, tmp_path_factory):
    c = container_factory("dbfleet-t-std-sim", "localhost/dbfleet-trixie:latest")
    tmp = tmp_path_factory.mktemp("std-sim")
    c.run("mkdir -p /opt/darkreach && (getent passwd darkreach || "
          "useradd --system --no-create-home --shell /usr/sbin/nologin darkreach)")
    res = run_playbook(c, sim_play(standin17.ip), tmp_path=tmp)
    assert res.returncode == 0, res.stdout[-6000:]
    c.tmp = tmp
    return c


def test_simulator_survives_a_database_restart_and_loses_nothing(standin17, simulator):
    db = standin17.container
    unit = f"postgresql@{standin17.major}-main"
    first = wait_for(lambda: (s := stats(simulator.ip)) and
                     s["acknowledged"].get("complete_work_block", 0) >= 5 and
                     s["acknowledged"].get("heartbeat", 0) >= 6 and s)
    pid_before = simulator.run("systemctl show -p MainPID --value darkreach-fleet-simulator").stdout
    # PostgreSQL away for a while, then back (a restart, then a stop/start).
    db.run(f"systemctl restart {unit}")
    db.run(f"systemctl stop {unit}")
    time.sleep(8)
    during = stats(simulator.ip)
    db.run(f"systemctl start {unit}")
    assert during["errors"].get("total", 0) > 0, "no errors counted while PostgreSQL was down"
    mark = writes(during)
    after = wait_for(lambda: (s := stats(simulator.ip)) and writes(s) >= mark + 30 and s)
    pid_after = simulator.run("systemctl show -p MainPID --value darkreach-fleet-simulator").stdout
    restarts = simulator.run("systemctl show -p NRestarts --value darkreach-fleet-simulator").stdout
    assert pid_before == pid_after and restarts.strip() == "0", "the simulator process died"
    assert after["acknowledged"]["complete_work_block"] > first["acknowledged"]["complete_work_block"]
    assert after["reads"].get("replica", 0) > 0      # dashboard reads via REPLICA_DATABASE_URL

    # Stop it (final state written), then compare every acknowledged write with the rows.
    simulator.run("systemctl stop darkreach-fleet-simulator")
    state = json.loads(simulator.run("cat /var/lib/darkreach-sim/state.json").stdout)
    verify = simulator.run("python3 /opt/darkreach-sim/fleet_simulator.py verify "
                           "--env-file /opt/darkreach/.env "
                           "--state-file /var/lib/darkreach-sim/state.json", check=False)
    report = json.loads(verify.stdout)
    assert verify.returncode == 0 and report["lost"] == 0, verify.stdout
    acked_ids = {t: len(v) for t, v in state["ids"].items()}
    assert acked_ids["metric_samples"] > 0 and acked_ids["work_blocks_completed"] > 0
    for table, counts in report["tables"].items():
        assert counts["found"] == counts["acknowledged"], (table, counts)
    # and independently from the host, straight from the tables
    with standin17.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM metric_samples WHERE id = ANY(%s)",
                    (state["ids"]["metric_samples"],))
        assert cur.fetchone()[0] == acked_ids["metric_samples"]
        cur.execute("SELECT count(*) FROM work_blocks WHERE status = 'completed' AND id = ANY(%s)",
                    (state["ids"]["work_blocks_completed"],))
        assert cur.fetchone()[0] == acked_ids["work_blocks_completed"]
        cur.execute("SELECT count(*) FROM primes WHERE id = ANY(%s)", (state["ids"]["primes"],))
        assert cur.fetchone()[0] == acked_ids["primes"]
    print("simulator load:", json.dumps({k: after[k] for k in (
        "nodes", "elapsed_s", "acknowledged_write_tx_per_s_per_node",
        "acknowledged_rows_per_s_per_node", "errors")}))
    simulator.run("systemctl start darkreach-fleet-simulator")


def test_simulator_role_is_idempotent(simulator, standin17):
    again = run_playbook(simulator, sim_play(standin17.ip), tmp_path=simulator.tmp)
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again.stdout)["changed"] == 0, again.stdout[-6000:]
    check = run_playbook(simulator, sim_play(standin17.ip), ("--check",), tmp_path=simulator.tmp)
    assert check.returncode == 0 and recap(check.stdout)["changed"] == 0, check.stdout[-6000:]


def test_simulator_refuses_an_env_file_without_database_url(simulator):
    simulator.run("printf 'REDIS_URL=redis://127.0.0.1:6379/0\\n' > /tmp/no-db.env")
    res = simulator.run("python3 /opt/darkreach-sim/fleet_simulator.py run --env-file /tmp/no-db.env "
                        "--state-file /tmp/s.json", check=False)
    assert res.returncode == 2
    assert "no DATABASE_URL" in res.stderr and "Traceback" not in res.stderr
