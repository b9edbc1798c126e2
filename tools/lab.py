"""The local container lab: one systemd container per host of inventories/lab/.

  python3 tools/lab.py up       create/start the containers, then run the lab playbooks
  python3 tools/lab.py hosts    create/start the containers only
  python3 tools/lab.py status   list the lab containers with their addresses, then the
                                Patroni leader, replicas and lag, PgBouncer's pools, Redis's
                                keys, the leader's hypertables and aggregates and the last
                                backup (each where that part of the lab runs)
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
        hostvars = data.get("_meta", {}).get("hostvars", {})
        redis_status([h for h in group_hosts(data, "redis") if h in running], hostvars)
        timescale_status(primary if primary in running else "",
                         str(hostvars.get(primary, {}).get("dbfleet_app_db", "postgres")))
        backup_status(primary if primary in running else "")
    print("\nReach a host:  podman exec -it <host> bash   (CONTAINERS_CONF=tools/containers.conf)")
    print("Run a playbook: .venv/bin/ansible-playbook playbooks/<phase>.yml   "
          "(the lab inventory is the default)")


# Reads inside the containers (podman exec): Patroni's REST API (on the container's loopback)
# and the PgBouncer exporter (on its lab address); psql (hypertables, aggregates) and
# pgBackRest's info run as the OS user postgres. The only password read is the Redis
# monitor user's, from the inventory; it reaches redis-cli through the environment
# (REDISCLI_AUTH, handed over by `podman exec -e NAME`), never a command line or the output.
HTTP_GET = ("import sys, urllib.request; "
            "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())")


def in_container(host: str, *cmd: str, env: dict | None = None, timeout: float = 30) -> str | None:
    """stdout of a command in a lab container, or None when it fails or hangs. ``env``:
    variables for the command, passed by name (`podman exec -e NAME`) so that their values
    stay off every command line."""
    names = [arg for key in (env or {}) for arg in ("-e", key)]
    try:
        res = labenv.podman("exec", *names, host, *cmd, check=False, timeout=timeout, env=env)
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


def redis_keyspace(info: str) -> dict[int, dict[str, int]]:
    """db number -> {keys, expires} from the `# Keyspace` section of Redis's INFO."""
    dbs: dict[int, dict[str, int]] = {}
    for line in info.splitlines():
        name, _, fields = line.strip().partition(":")
        if not name.startswith("db") or not name[2:].isdigit() or "=" not in fields:
            continue
        values = dict(f.split("=", 1) for f in fields.split(",") if "=" in f)
        dbs[int(name[2:])] = {k: int(values.get(k, 0)) for k in ("keys", "expires")}
    return dbs


def key_prefix(key: str) -> str:
    """A key's family: its first segment with the id after it as `*` (worker:n-1 -> worker:*,
    worker:n-1:cmd -> worker:*:cmd); a key without `:` stands for itself."""
    parts = key.split(":")
    if len(parts) == 1:
        return key
    return ":".join([parts[0], "*", *parts[2:]])


def key_prefix_counts(keys: list[str]) -> list[tuple[str, int]]:
    """(family, count) of `redis-cli --scan` output, largest first."""
    counts: dict[str, int] = {}
    for key in keys:
        if key:
            counts[key_prefix(key)] = counts.get(key_prefix(key), 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


REDIS_SCAN_LIMIT = 100_000  # above it only the key count is shown


def redis_status(hosts: list[str], hostvars: dict) -> None:
    for host in hosts:
        hv = hostvars.get(host, {})
        user = str(hv.get("redis_sidecar_monitor_user", "monitor"))
        password = str(hv.get("redis_sidecar_monitor_password", ""))
        if not password or "{{" in password or "$ANSIBLE_VAULT" in password:
            print(f"\nRedis on {host}: the inventory gives no plain redis_sidecar_monitor_password "
                  "to read the keys with")
            continue
        cli = ("redis-cli", "--no-auth-warning", "--user", user, "-h", "127.0.0.1",
               "-p", str(hv.get("redis_sidecar_port", 6379)))
        env = {"REDISCLI_AUTH": password}
        info = in_container(host, *cli, "info", "keyspace", env=env)
        if info is None or "# Keyspace" not in info:
            print(f"\nRedis on {host}: redis-cli as {user} gets no answer "
                  "(playbooks/phase2.yml sets Redis up)")
            continue
        dbs = redis_keyspace(info)
        print(f"\nRedis keys on {host} (redis-cli as {user}):")
        if not dbs:
            print("  no keys")
        for db, counts in sorted(dbs.items()):
            print(f"  db{db}: {counts['keys']} keys, {counts['expires']} with a TTL")
            if counts["keys"] > REDIS_SCAN_LIMIT:
                continue
            keys = in_container(host, *cli, "-n", str(db), "--scan", "--count", "1000", env=env)
            for family, n in key_prefix_counts((keys or "").splitlines()):
                print(f"    {family:<28} {n:>8}")


# One JSON document about the hypertables and the aggregates (continuous aggregates, and
# materialized views: what an aggregate is under the Apache-licensed build) of a database;
# the refresh of a materialized view is the pg_cron job that names it (read only when
# pg_cron lives in this database). `newest` is the column whose newest value is reported.
TS_PROBE = ("SELECT json_build_object('timescaledb', (SELECT extversion FROM pg_extension "
            "WHERE extname = 'timescaledb'), 'license', current_setting('timescaledb.license', true), "
            "'cron', to_regclass('cron.job') IS NOT NULL)")
TS_QUERY = """
WITH aggs AS (
  SELECT c.oid, n.nspname, c.relname, ca.materialization_hypertable_schema AS mat_schema,
         ca.materialization_hypertable_name AS mat_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN timescaledb_information.continuous_aggregates ca
           ON ca.view_schema = n.nspname AND ca.view_name = c.relname
   WHERE (c.relkind = 'm' OR ca.view_name IS NOT NULL)
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', '_timescaledb_internal'))
SELECT json_build_object(
  'hypertables', (SELECT coalesce(json_agg(json_build_object(
      'name', format('%I.%I', h.hypertable_schema, h.hypertable_name),
      'chunks', h.num_chunks,
      'compressed_chunks', (SELECT count(*) FROM timescaledb_information.chunks k
                             WHERE k.hypertable_schema = h.hypertable_schema
                               AND k.hypertable_name = h.hypertable_name AND k.is_compressed),
      'bytes', hypertable_size(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass),
      'compression', h.compression_enabled)
      ORDER BY h.hypertable_schema, h.hypertable_name), '[]')
    FROM timescaledb_information.hypertables h
   WHERE h.hypertable_schema <> '_timescaledb_internal'),
  'aggregates', (SELECT coalesce(json_agg(json_build_object(
      'name', format('%I.%I', a.nspname, a.relname),
      'kind', CASE WHEN a.mat_name IS NULL THEN 'materialized view' ELSE 'continuous aggregate' END,
      'newest', (SELECT t.attname FROM pg_attribute t WHERE t.attrelid = a.oid AND t.attnum > 0
                  AND NOT t.attisdropped
                  AND t.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
                  ORDER BY t.attnum LIMIT 1),
      'refresh', CASE WHEN a.mat_name IS NOT NULL THEN
        (SELECT json_build_object('method', 'policy', 'schedule', j.schedule_interval::text,
                                  'last', s.last_successful_finish, 'status', s.last_run_status)
           FROM timescaledb_information.jobs j
           LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
          WHERE j.proc_name = 'policy_refresh_continuous_aggregate'
            AND j.hypertable_schema = a.mat_schema AND j.hypertable_name = a.mat_name LIMIT 1)
      /*CRON*/ END)
      ORDER BY a.nspname, a.relname), '[]') FROM aggs a))
"""
TS_CRON = """ELSE
        (SELECT json_build_object('method', 'pg_cron', 'schedule', j.schedule,
                  'last', (SELECT max(d.end_time) FROM cron.job_run_details d
                            WHERE d.jobid = j.jobid AND d.status = 'succeeded'),
                  'status', (SELECT d.status FROM cron.job_run_details d WHERE d.jobid = j.jobid
                              ORDER BY d.runid DESC LIMIT 1))
           FROM cron.job j
          WHERE j.jobname = 'dbfleet_refresh:' || current_database() || '.' || a.nspname || '.' || a.relname
             OR position(format('%I.%I', a.nspname, a.relname) IN j.command) > 0
          ORDER BY j.jobid LIMIT 1)
     """


def ts_query(cron: bool) -> str:
    return TS_QUERY.replace("/*CRON*/", TS_CRON if cron else "")


def newest_query(aggregates: list[dict]) -> str:
    """One query for the newest value of each aggregate's time column, as JSON."""
    parts = [f"SELECT {quote_literal(a['name'])} AS name, max({quote_ident(a['newest'])})::text AS v "
             f"FROM {a['name']}" for a in aggregates if a.get("newest")]
    if not parts:
        return ""
    return f"SELECT json_object_agg(name, v) FROM ({' UNION ALL '.join(parts)}) AS s"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def size_text(n: int | float | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def time_text(ts: str | None) -> str:
    """PostgreSQL's JSON timestamp (2026-12-07T09:01:02.123+00:00) as minutes in UTC."""
    if not ts:
        return ""
    return ts.replace("T", " ")[:16] + (" UTC" if ts.endswith(("+00:00", "+00")) else "")


def hypertable_rows(doc: dict, license_: str) -> list[tuple[str, str, str, str]]:
    """(hypertable, chunks, size, compression) rows of the TS_QUERY document."""
    rows = []
    for h in doc.get("hypertables", []):
        if license_ == "apache":
            comp = "unavailable (Apache-licensed build)"
        elif h.get("compression"):
            comp = f"on, {h.get('compressed_chunks', 0)}/{h.get('chunks', 0)} chunks compressed"
        else:
            comp = "off"
        rows.append((h["name"], str(h.get("chunks", "")), size_text(h.get("bytes")), comp))
    return rows


def aggregate_rows(doc: dict, newest: dict) -> list[tuple[str, str, str, str, str]]:
    """(aggregate, kind, refresh, last refresh, newest bucket) rows of the TS_QUERY document
    and the newest_query() answer."""
    rows = []
    for a in doc.get("aggregates", []):
        r = a.get("refresh") or {}
        how = f"{r['method']} every {r.get('schedule')}" if r.get("method") == "policy" else \
            f"pg_cron '{r.get('schedule')}'" if r.get("method") == "pg_cron" else "no schedule"
        last = time_text(r.get("last")) or ("not yet" if r else "")
        if r.get("status") and r.get("status") not in ("succeeded", "Success"):
            last = f"{last} (last run: {r['status']})".strip()
        rows.append((a["name"], a.get("kind", ""), how, last, time_text((newest or {}).get(a["name"]))))
    return rows


def psql_json(host: str, db: str, query: str):
    out = in_container(host, "runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-A", "-t",
                       "-v", "ON_ERROR_STOP=1", "-d", db, "-c", query)
    return json.loads(out) if out and out.strip() else None


def timescale_status(leader: str, db: str) -> None:
    if not leader:
        return
    probe = psql_json(leader, db, TS_PROBE)
    if probe is None:
        print(f"\nTimescaleDB: psql on {leader} does not answer")
        return
    if not probe.get("timescaledb"):
        print(f"\nTimescaleDB: not installed in database {db} on {leader} (playbooks/phase3.yml)")
        return
    doc = psql_json(leader, db, ts_query(bool(probe.get("cron")))) or {}
    nq = newest_query(doc.get("aggregates", []))
    newest = psql_json(leader, db, nq) if nq else {}
    license_ = probe.get("license") or "?"
    print(f"\nHypertables in {db} on {leader} (TimescaleDB {probe['timescaledb']}, {license_} licence):")
    print(f"  {'hypertable':<26} {'chunks':>6} {'size':>10}  compression")
    for row in hypertable_rows(doc, license_) or [("none", "", "", "")]:
        print(f"  {row[0]:<26} {row[1]:>6} {row[2]:>10}  {row[3]}")
    print(f"\nAggregates in {db} on {leader}:")
    print(f"  {'aggregate':<34} {'kind':<20} {'refresh':<22} {'last refresh':<22} newest bucket")
    for row in aggregate_rows(doc, newest or {}) or [("none", "", "", "", "")]:
        print(f"  {row[0]:<34} {row[1]:<20} {row[2]:<22} {row[3]:<22} {row[4]}")


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
