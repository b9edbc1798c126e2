"""The local container lab: one systemd container per host of inventories/lab/.

  python3 tools/lab.py up       create/start the containers, then run the lab playbooks
  python3 tools/lab.py hosts    create/start the containers only
  python3 tools/lab.py status   list the lab containers with their addresses, then the
                                Patroni leader, replicas and lag, PgBouncer's pools and the
                                last backup (each where that part of the lab runs)
  python3 tools/lab.py down     remove the lab containers and network

Containers are named after their inventory host, labelled `dbfleet.lab=1`, and live on
network dbfleet-lab (198.18.0.0/24). A container of the same name without that label
is never touched. Run with the venv's python (the Makefile does).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import labenv  # noqa: E402

INVENTORY = labenv.ROOT / "inventories" / "lab" / "hosts.yml"
LABEL = "dbfleet.lab=1"
PLAYBOOKS = ["playbooks/lab_standins.yml", "playbooks/site.yml"]


def inventory() -> dict:
    """`ansible-inventory --list` of the lab inventory."""
    res = subprocess.run([str(labenv.VENV_BIN / "ansible-inventory"), "-i", str(INVENTORY),
                          "--list"], env=labenv.podman_env(), text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if res.returncode != 0:
        raise labenv.SetupError(f"cannot read {INVENTORY}: {res.stderr.strip()}")
    return json.loads(res.stdout)


def group_hosts(data: dict, group: str) -> list[str]:
    """The hosts of a group of `ansible-inventory --list`, its children's included."""
    body = data.get(group, {})
    hosts = list(body.get("hosts", []))
    for child in body.get("children", []):
        hosts += [h for h in group_hosts(data, child) if h not in hosts]
    return hosts


def inventory_hosts() -> dict[str, str]:
    """host -> image, from `ansible-inventory --list`."""
    data = inventory()
    hostvars = data.get("_meta", {}).get("hostvars", {})
    hosts: set[str] = set()
    for group, body in data.items():
        if group != "_meta" and isinstance(body, dict):
            hosts.update(body.get("hosts", []))
    return {h: hostvars.get(h, {}).get("dbfleet_lab_image", labenv.DEFAULT_IMAGE)
            for h in sorted(hosts)}


def lab_containers() -> dict[str, dict]:
    out = labenv.podman("ps", "-a", "--filter", f"label={LABEL}", "--format", "json").stdout
    return {c["Names"][0]: c for c in json.loads(out or "[]")}


def address(name: str) -> str:
    info = json.loads(labenv.podman("inspect", name).stdout)[0]
    return info["NetworkSettings"]["Networks"].get(labenv.LAB_NETWORK, {}).get("IPAddress", "")


def hosts_up() -> None:
    wanted = inventory_hosts()
    for image in set(wanted.values()):
        labenv.require_image(image)
    labenv.ensure_network(labenv.LAB_NETWORK, labenv.LAB_SUBNET)
    labenv.APT_ARCHIVES.mkdir(parents=True, exist_ok=True)
    existing = lab_containers()
    others = set(labenv.container_names()) - set(existing)
    for host, image in wanted.items():
        if host in others:
            raise labenv.SetupError(f"a container named {host} exists and is not part of the "
                                    "lab (no dbfleet.lab label); rename or remove it")
        if host in existing:
            if existing[host].get("State") != "running":
                labenv.podman("start", host)
            continue
        labenv.podman("run", "-d", "--name", host, "--hostname", host, "--label", LABEL,
                      "--network", labenv.LAB_NETWORK, "--systemd", "always",
                      "--tmpfs", "/tmp", "--tmpfs", "/run",
                      "-v", f"{labenv.APT_ARCHIVES}:/var/cache/apt/archives",
                      image, "/sbin/init")
        print(f"created {host} from {image}")
    for host in wanted:
        labenv.podman("exec", host, "systemctl", "is-system-running", "--wait", check=False,
                      timeout=120)


def status() -> None:
    conts = lab_containers()
    if not conts:
        print("the lab is not running (make lab)")
        return
    print(f"{'host':<14} {'state':<10} address")
    for name, c in sorted(conts.items()):
        print(f"{name:<14} {c.get('State', ''):<10} {address(name)}")
    running = {n for n, c in conts.items() if c.get("State") == "running"}
    try:
        data = inventory()
    except labenv.SetupError as exc:
        print(f"\n(no service status: {exc})")
        data = {}
    if data:
        leader = patroni_status([h for h in group_hosts(data, "postgres") if h in running])
        primary = leader or next(iter(group_hosts(data, "postgres_primary")), "")
        pgbouncer_status([h for h in group_hosts(data, "pgbouncer") if h in running])
        backup_status(primary if primary in running else "")
    print("\nReach a host:  podman exec -it <host> bash   (CONTAINERS_CONF=tools/containers.conf)")
    print("Run a playbook: .venv/bin/ansible-playbook playbooks/<phase>.yml   "
          "(the lab inventory is the default)")


# Reads inside the containers (podman exec): Patroni's REST API (on the container's loopback)
# and the PgBouncer exporter (on its lab address); pgBackRest's info runs as postgres.
# No password is read.
HTTP_GET = ("import sys, urllib.request; "
            "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())")


def in_container(host: str, *cmd: str) -> str | None:
    """stdout of a command in a lab container, or None when it fails or hangs."""
    try:
        res = labenv.podman("exec", host, *cmd, check=False, timeout=30)
    except subprocess.TimeoutExpired:
        return None
    return res.stdout if res.returncode == 0 else None


def http_get(host: str, url: str) -> str | None:
    return in_container(host, "python3", "-c", HTTP_GET, url)


LEADER_ROLES = ("leader", "master", "primary", "standby_leader")


def patroni_rows(cluster: dict) -> list[tuple[str, str, str, str, str]]:
    """(member, role, state, timeline, lag) rows of Patroni's GET /cluster, leader first."""
    rows = []
    for m in cluster.get("members", []):
        lag = m.get("lag", "")
        if isinstance(lag, int):
            lag = f"{lag} B"
        rows.append((m.get("name", "?"), m.get("role", "?"), m.get("state", "?"),
                     str(m.get("timeline", "")), "" if m.get("role") in LEADER_ROLES else str(lag)))
    return sorted(rows, key=lambda r: (r[1] not in LEADER_ROLES, r[0]))


def patroni_status(hosts: list[str]) -> str:
    """Print the Patroni cluster as the first answering member sees it; return the leader."""
    for host in hosts:
        body = http_get(host, "http://127.0.0.1:8008/cluster")
        if body is None:
            continue
        rows = patroni_rows(json.loads(body))
        print(f"\nPatroni (GET /cluster on {host}):")
        print(f"  {'member':<10} {'role':<15} {'state':<10} {'TL':<4} lag")
        for row in rows:
            print(f"  {row[0]:<10} {row[1]:<15} {row[2]:<10} {row[3]:<4} {row[4]}")
        return next((r[0] for r in rows if r[1] in LEADER_ROLES), "")
    if hosts:
        print("\nPatroni: not running (playbooks/phase5.yml sets it up)")
    return ""


POOL_METRICS = {"client_active_connections": "cl_active", "client_waiting_connections": "cl_waiting",
                "server_active_connections": "sv_active", "server_idle_connections": "sv_idle"}


def pool_rows(metrics: str) -> dict[tuple[str, str], dict[str, str]]:
    """(database, user) -> {cl_active, cl_waiting, sv_active, sv_idle} from the PgBouncer
    exporter's Prometheus text."""
    pools: dict[tuple[str, str], dict[str, str]] = {}
    for line in metrics.splitlines():
        if not line.startswith("pgbouncer_pools_") or "{" not in line:
            continue
        name, rest = line[len("pgbouncer_pools_"):].split("{", 1)
        if name not in POOL_METRICS:
            continue
        labels_text, _, value = rest.rpartition("}")
        labels = dict(part.split("=", 1) for part in labels_text.split(",") if "=" in part)
        key = (labels.get("database", "").strip('"'), labels.get("user", "").strip('"'))
        pools.setdefault(key, {})[POOL_METRICS[name]] = value.strip().split(" ")[0].removesuffix(".0")
    return pools


def pgbouncer_status(hosts: list[str]) -> None:
    for host in hosts:
        # the exporter listens on the host's private address (role pgbouncer_exporter)
        metrics = http_get(host, f"http://{address(host)}:9127/metrics")
        if metrics is None:
            print(f"\nPgBouncer on {host}: its exporter does not answer (port 9127)")
            continue
        print(f"\nPgBouncer pools on {host} (from its exporter):")
        print(f"  {'database':<16} {'user':<16} {'cl_active':>9} {'cl_waiting':>10} "
              f"{'sv_active':>9} {'sv_idle':>7}")
        for (db, user), p in sorted(pool_rows(metrics).items()):
            print(f"  {db:<16} {user:<16} {p.get('cl_active', ''):>9} {p.get('cl_waiting', ''):>10} "
                  f"{p.get('sv_active', ''):>9} {p.get('sv_idle', ''):>7}")


def last_backups(info: list) -> list[str]:
    """One line per stanza of `pgbackrest info --output=json`: its newest backup."""
    lines = []
    for stanza in info:
        backups = stanza.get("backup", [])
        if not backups:
            lines.append(f"stanza {stanza.get('name', '?')}: no backup yet")
            continue
        b = max(backups, key=lambda x: x.get("timestamp", {}).get("stop", 0))
        stop = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(b.get("timestamp", {}).get("stop", 0)))
        size = b.get("info", {}).get("size", 0) / 2**20
        lines.append(f"stanza {stanza.get('name', '?')}: {b.get('type', '?')} {b.get('label', '?')}, "
                     f"finished {stop}, {size:.0f} MiB, {len(backups)} backup(s) in the repository")
    return lines


def backup_status(primary: str) -> None:
    if not primary:
        return
    out = in_container(primary, "runuser", "-u", "postgres", "--", "pgbackrest", "info", "--output=json")
    if out is None:
        print(f"\nLast backup: pgBackRest is not set up on {primary}")
        return
    print(f"\nLast backup (pgbackrest info on {primary}):")
    for line in last_backups(json.loads(out)) or ["no stanza"]:
        print(f"  {line}")


def down() -> None:
    for name in lab_containers():
        labenv.podman("rm", "-f", "--time", "5", name)
        print(f"removed {name}")
    labenv.podman("network", "rm", "-f", labenv.LAB_NETWORK, check=False)


def run_playbooks(extra: list[str]) -> int:
    cmd = [str(labenv.VENV_BIN / "ansible-playbook"), "-i", str(INVENTORY), *PLAYBOOKS, *extra]
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=labenv.ROOT, env=labenv.podman_env()).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "hosts", "status", "down"])
    parser.add_argument("ansible_args", nargs=argparse.REMAINDER,
                        help="extra ansible-playbook arguments (after --)")
    args = parser.parse_args(argv)
    labenv.require_root()
    try:
        if args.action in ("up", "hosts"):
            hosts_up()
        if args.action == "up":
            rc = run_playbooks([a for a in args.ansible_args if a != "--"])
            status()
            return rc
        if args.action in ("hosts", "status"):
            status()
        if args.action == "down":
            down()
    except labenv.SetupError as exc:
        labenv.die(str(exc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
