#!/usr/bin/env python3
"""Phase 5 measured on three bare containers: deploy, re-run, failover, switchover, pgbench.

    .venv/bin/python benchmarks/ha_failover.py [--trials 5] [--presets fast,default,safe]
        [--etcd-trials 5] [--switchovers 3] [--clients 20,200,1000] [--seconds 20] [--keep]

Starts its own containers on a podman network inside 198.18.0.0/15: three bare Debian 13
nodes (etcd + Patroni + PostgreSQL 17 + TimescaleDB) and a proxy node (HAProxy + PgBouncer),
and measures, with the collection's own playbooks:
  * deploy    wall time of playbooks/phase5.yml on the bare containers, then of its immediate
              re-run (and the re-run's changed count, which must be 0);
  * failover  playbooks/failover_drill.yml, --trials times per DCS preset (SIGKILL to Patroni
              and PostgreSQL on the leader): the client-visible write pause through PgBouncer
              (postgres_write_probe, one write every 0.1 s) and the time until Patroni named a
              new leader; --etcd-trials more on the first preset with the etcd leader moved to
              the PostgreSQL leader's node and killed with it;
  * switchover playbooks/switchover.yml under the same probe: the write pause (PgBouncer holds
              clients during PAUSE) and lost writes;
  * pgbench   TPS of pgbench's TPC-B-like script for --seconds at each client count, directly
              at the leader (max_connections 100) and through PgBouncer (transaction pooling,
              default_pool_size 20; max_client_conn raised to 1100 here so that 1,000 clients
              can connect at all; the role's default is the roadmap's 200).
Prints one table per measure. Removes its containers and network at the end (--keep leaves them).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
import labenv  # noqa: E402
from tests.helpers.containers import Container  # noqa: E402
from benchmarks.replica_lag import pgbench_path  # noqa: E402

NETWORK = "dbfleet-t-ha-bench"
SUBNET = "198.18.42.0/24"
NODES = [f"dbfleet-t-hab-{i}" for i in (1, 2, 3)]
PROXY = "dbfleet-t-hab-proxy"
APP_PW = "bench-app-password-not-a-secret"

INVENTORY = {
    "all": {
        "vars": {
            "ansible_connection": "containers.podman.podman",
            "ansible_python_interpreter": "/usr/bin/python3",
            "patroni_etcd_restapi_password": "bench-api-password",
            "patroni_etcd_superuser_password": "bench-super-password",
            "patroni_etcd_replication_password": "bench-repl-password",
            "patroni_etcd_cron_database": "darkreach",
            "patroni_etcd_hba_rules": [
                {"type": "local", "database": "all", "user": "all", "method": "peer"},
                {"type": "host", "database": "all", "user": "all", "address": "127.0.0.1/32",
                 "method": "scram-sha-256"},
                {"type": "host", "database": "all", "user": "all", "address": "198.18.0.0/15",
                 "method": "scram-sha-256"}],
            "postgres_timescale_users": [{"name": "darkreach", "password": APP_PW,
                                          "role_attr_flags": "LOGIN"}],
            "postgres_timescale_databases": [{"name": "darkreach", "owner": "darkreach",
                                              "extensions": ["timescaledb"]}],
            "pgbouncer_auth_password": "bench-auth-password",
            "pgbouncer_admin_password": "bench-admin-password",
            "pgbouncer_stats_password": "bench-stats-password",
            "pgbouncer_setup_password": "bench-super-password",
            "pgbouncer_databases": [{"name": "darkreach"}],
            "pgbouncer_max_client_conn": 1100,
            "pgbouncer_hba_rules": [
                {"type": "host", "database": "all", "user": "all", "address": "127.0.0.1/32",
                 "method": "scram-sha-256"},
                {"type": "host", "database": "all", "user": "all", "address": "198.18.0.0/15",
                 "method": "scram-sha-256"}],
            "dbfleet_app_user": "darkreach",
            "dbfleet_app_password": APP_PW,
            "dbfleet_app_db": "darkreach",
        },
        "children": {
            "etcd": {"hosts": {n: {} for n in NODES}},
            "postgres": {"children": {
                "postgres_primary": {"hosts": {NODES[0]: {}}},
                "postgres_replicas": {"hosts": {n: {} for n in NODES[1:]}}}},
            "haproxy": {"hosts": {PROXY: {}}},
            "pgbouncer": {"hosts": {PROXY: {}}},
        },
    }
}

SWITCHOVER_PLAY = """
- hosts: pgbouncer
  gather_facts: false
  tasks:
    - ansible.builtin.include_tasks: %(root)s/playbooks/tasks/write_probe_start.yml
      vars: {write_probe_label: switchover-bench, write_probe_stop_file: /run/dbfleet-bench-probe.stop}
- ansible.builtin.import_playbook: %(root)s/playbooks/switchover.yml
- hosts: pgbouncer
  gather_facts: false
  tasks:
    - ansible.builtin.include_tasks: %(root)s/playbooks/tasks/write_probe_collect.yml
      vars: {write_probe_stop_file: /run/dbfleet-bench-probe.stop}
    - ansible.builtin.set_stats:
        data:
          switchover_probe: {pause: "{{ dbfleet_write_probe.longest_pause_s }}", lost: "{{ dbfleet_write_probe.lost }}",
                             acknowledged: "{{ dbfleet_write_probe.acknowledged }}", errors: "{{ dbfleet_write_probe.errors }}"}
"""


class Run:
    def __init__(self, tmp: Path):
        self.inventory = tmp / "inventory.json"
        self.inventory.write_text(json.dumps(INVENTORY))
        self.tmp = tmp

    def playbook(self, playbook: str, *extra: str, json_out: bool = False) -> tuple[float, str]:
        env = labenv.podman_env({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"})
        if json_out:
            env.update({"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_SHOW_CUSTOM_STATS": "1"})
        t0 = time.monotonic()
        res = subprocess.run([str(labenv.VENV_BIN / "ansible-playbook"), "-i", str(self.inventory), playbook,
                              *extra], env=env, cwd=str(ROOT), text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=3600)
        wall = time.monotonic() - t0
        if res.returncode:
            sys.exit(f"{playbook} {' '.join(extra)} failed (rc {res.returncode}):\n{res.stdout[-6000:]}")
        return wall, res.stdout


def recap_changed(output: str) -> int:
    return sum(int(m) for m in re.findall(r"^\S+\s*:\s*ok=\d+\s+changed=(\d+)", output, re.M))


def custom_stats(output: str, key: str) -> dict:
    data = json.loads(output[output.index("{"):])
    stats = data.get("global_custom_stats") or data.get("custom_stats", {}).get("_run", {})
    return stats[key]


def summary(values: list[float]) -> str:
    if not values:
        return f"{'-':>8}{'-':>8}{'-':>8}"
    return f"{min(values):>8.1f}{statistics.median(values):>8.1f}{max(values):>8.1f}"


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))


def pgbench(host: str, port: int, clients: int, seconds: int) -> str:
    env = dict(os.environ, PGPASSWORD=APP_PW, PGCONNECT_TIMEOUT="10")
    res = subprocess.run([pgbench_path(), "-h", host, "-p", str(port), "-U", "darkreach", "-n", "-M", "simple",
                          "-c", str(clients), "-j", "2", "-T", str(seconds), "darkreach"],
                         env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=seconds + 300, preexec_fn=raise_fd_limit)
    tps = re.search(r"^tps = ([\d.]+)", res.stdout, re.M)
    if res.returncode == 0 and tps:
        return f"{float(tps.group(1)):.0f}"
    # pgbench's last error line names the reason (too many clients, no more connections, ...)
    errors = [line for line in res.stdout.splitlines() if "error" in line.lower() or "FATAL" in line]
    return f"failed (exit {res.returncode}): " + (errors[-1].strip()[-60:] if errors else "no error line")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--presets", default="fast,default,safe")
    parser.add_argument("--etcd-trials", type=int, default=5)
    parser.add_argument("--switchovers", type=int, default=3)
    parser.add_argument("--clients", default="20,200,1000")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    presets = [p for p in args.presets.split(",") if p]

    labenv.ensure_network(NETWORK, SUBNET)
    hosts = [Container(n, network=NETWORK) for n in NODES + [PROXY]]
    phase5 = str(ROOT / "playbooks/phase5.yml")
    drill = str(ROOT / "playbooks/failover_drill.yml")
    try:
        for c in hosts:
            c.start()
        labenv.ensure_collection_link()
        with tempfile.TemporaryDirectory() as tmp:
            run = Run(Path(tmp))
            first = presets[0] if presets else "default"
            deploy_s, _ = run.playbook(phase5, "-e", f"patroni_etcd_dcs_preset={first}")
            rerun_s, out = run.playbook(phase5, "-e", f"patroni_etcd_dcs_preset={first}")
            rerun_changed = recap_changed(out)
            print(f"\nphase5.yml on 3 bare Debian 13 containers + 1 proxy: deploy {deploy_s:.0f} s, "
                  f"immediate re-run {rerun_s:.0f} s with changed={rerun_changed}", flush=True)

            failovers: dict[str, list[dict]] = {}
            for preset in presets:
                if preset != first:
                    run.playbook(phase5, "-e", f"patroni_etcd_dcs_preset={preset}")
                for etcd in ([False, True] if preset == first and args.etcd_trials else [False]):
                    label = f"{preset} + etcd leader" if etcd else preset
                    for _ in range(args.etcd_trials if etcd else args.trials):
                        _, out = run.playbook(drill, "-e", "dbfleet_failover_drill_confirm=true",
                                              "-e", f"dbfleet_failover_drill_etcd={str(etcd).lower()}",
                                              "-e", f"patroni_etcd_dcs_preset={preset}", json_out=True)
                        result = custom_stats(out, "failover_drill")
                        failovers.setdefault(label, []).append(result)
                        print(f"  drill {label}: {result}", flush=True)

            switchovers = []
            play = Path(tmp) / "switchover_probe.yml"
            play.write_text(SWITCHOVER_PLAY % {"root": ROOT})
            for _ in range(args.switchovers):
                wall, out = run.playbook(str(play), json_out=True)
                result = custom_stats(out, "switchover_probe")
                result["wall"] = wall
                switchovers.append(result)
                print(f"  switchover: {result}", flush=True)

            leader = next(c for c in hosts[:3] if c.run(
                "psql -X -A -t -c 'SELECT pg_is_in_recovery()'", user="postgres", check=False).stdout.strip() == "f")
            leader.run("PGPASSWORD=" + APP_PW + " /usr/lib/postgresql/17/bin/pgbench -h 127.0.0.1 -U darkreach -i -q -s 10 darkreach",
                       timeout=900)
            bench = []
            for clients in [int(c) for c in args.clients.split(",") if c]:
                direct = pgbench(leader.ip, 5432, clients, args.seconds)
                pooled = pgbench(hosts[3].ip, 6432, clients, args.seconds)
                bench.append((clients, direct, pooled))
                print(f"  pgbench {clients}: direct {direct}, PgBouncer {pooled}", flush=True)

        print("\nFailover under hard kill (failover_drill.yml; seconds; min / median / max)")
        print(f"{'preset':<22}{'trials':>7}{'  write pause':>24}{'  new leader named':>24}{'lost':>6}")
        for label, results in failovers.items():
            pauses = [float(r["write_pause_s"]) for r in results]
            named = [float(r["new_leader_after_s"]) for r in results]
            lost = sum(int(r["lost"]) for r in results)
            print(f"{label:<22}{len(results):>7}{summary(pauses):>24}{summary(named):>24}{lost:>6}")
        print("\nSwitchover (switchover.yml, PgBouncer PAUSE/RESUME; seconds; min / median / max)")
        pauses = [float(r["pause"]) for r in switchovers]
        print(f"{'trials':<8}{'  write pause':>24}{'playbook wall':>16}{'lost':>6}{'failed writes':>15}")
        print(f"{len(switchovers):<8}{summary(pauses):>24}{statistics.median([r['wall'] for r in switchovers]) if switchovers else 0:>16.1f}"
              f"{sum(int(r['lost']) for r in switchovers):>6}{sum(int(r['errors']) for r in switchovers):>15}")
        print(f"\npgbench TPC-B-like, scale 10, {args.seconds} s per run (TPS; pgbench on the host)")
        print(f"{'clients':>8}  {'direct (max_connections 100)':<40}{'PgBouncer (pool 20)'}")
        for clients, direct, pooled in bench:
            print(f"{clients:>8}  {direct:<40}{pooled}")
        print(f"\nDeploy: phase5.yml {deploy_s:.0f} s on bare containers; re-run {rerun_s:.0f} s, changed={rerun_changed}")
    finally:
        if not args.keep:
            for c in hosts:
                c.remove()
            labenv.podman("network", "rm", "-f", NETWORK, check=False)


if __name__ == "__main__":
    main()
