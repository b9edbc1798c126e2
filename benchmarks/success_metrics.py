"""The roadmap's Success Metrics table, measured in the lab stage by stage: prints it.

    .venv/bin/python benchmarks/success_metrics.py [--quick] [--stages standin,phase1,phase3,phase5]
        [--cap 800] [--threshold-ms 500]

Needs the lab after `make lab` (tools/lab.py: the Supabase stand-in `supabase`, which stays
in the lab after the cutover, the Patroni cluster pg1..pg3, PgBouncer and Redis on
`coordinator`). Sends traffic only to the lab containers' addresses (198.18.0.0/24);
refuses any other. Passwords come from the lab inventory (one templated `ansible` call) and
are never printed.

Layout. The roadmap's own table is not in the repository; this one follows its layout
with the cost column omitted: one row per metric, one column per stage:
  * Supabase today (stand-in)           - a scratch copy of the stand-in's database (the
                                          stand-in itself is left as it is), direct port 5432,
                                          heartbeats in PostgreSQL;
  * After Phase 1                       - the same copy after playbooks/phase1.yml (dashboard
                                          materialized views, weekly partitions of
                                          metric_samples), through the stand-in's
                                          transaction pooler on 6543 as phase 1's
                                          DATABASE_URL; the copy is dropped afterwards;
  * After Phase 3 (self-hosted, direct) - the Patroni leader's PostgreSQL + TimescaleDB,
                                          port 5432, heartbeats in Redis (phase 2);
  * After Phase 5 (Patroni + PgBouncer) - the same database through PgBouncer on the
                                          coordinator, heartbeats in Redis.
Phase 2, 4 and 6 change no row of the table on their own (Redis's effect shows from
Phase 3 on; the replica and LISTEN/NOTIFY are not among the metrics).

Metrics (each stage; "nodes" are simulated by the lab's fleet simulator,
roles/lab_fleet_simulator/files/fleet_simulator.py, run on this machine through
benchmarks/redis_fleet.py's simulate(): heartbeats, claim_work_block() with FOR UPDATE SKIP
LOCKED, complete_work_block(), primes, four metric samples per heartbeat, log lines,
the coordinator's refill and the dashboard loop; its pool has one connection per node
(DB_MAX_CONNECTIONS = nodes), as N darkreach nodes would each hold their own):
  * Dashboard page p95     - one page = get_stats(), get_form_leaderboard(20),
                             get_digit_distribution(NULL, 1000) and the 50 most recent primes,
                             in sequence on one connection of the stage's path, repeated while
                             the 50-node simulator runs; p95 of the page in ms (client side);
  * PostgreSQL writes/s at 50 nodes - write transactions PostgreSQL acknowledged per second
                             during the 50-node run (heartbeat upserts where heartbeats are
                             still in PostgreSQL, claims, completions, primes, samples, logs);
  * Connection utilisation at 50 nodes - peak of the server connections the path holds
                             against its limit, sampled every second of the 50-node run:
                             direct: client backends in pg_stat_activity / max_connections
                             (the whole server, the lab's own simulators included); the
                             stand-in's pooler: its server connections (backends from
                             loopback) / its default_pool_size; PgBouncer: the pool's server
                             connections (sv_active + sv_idle, from its exporter) / pool size;
  * 30-day metric query    - fleet-wide hourly count/avg/min/max of one metric over 30 days
                             (p95 ms): the raw table on the stand-in, the weekly partitions
                             after phase 1, the hourly aggregate metric_samples_hourly
                             (continuous aggregate, or a materialized view under the
                             Apache-licensed build) from phase 3 on. 30 days of samples of
                             50 nodes x 2 metrics (metric names bench30.*) are loaded into the
                             copy and into the leader's metric_samples first (and deleted from
                             the leader at the end, --keep keeps them);
  * Largest sustained node count - the simulator at 100, 200, 400, ... nodes (up to --cap)
                             for --ramp-seconds each; a step holds when errors stay under 1 %
                             of its transactions and the p95 of claim_work_block() stays under
                             --threshold-ms; the ramp stops at the first step that does not.
                             On this machine (2 cores shared with other work, the simulator's
                             threads on the same cores) this bounds the lab, not the design.

--quick: 30 s at 50 nodes, 20 s per ramp step, cap 400, 10-minute samples; the default:
60 s, 40 s, cap 800, 2-minute samples. The simulator's rows (workers bench-..., samples,
jobs, blocks) stay in the leader's database, as with benchmarks/redis_fleet.py.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import lab  # noqa: E402
import labenv  # noqa: E402
from redis_fleet import check_host, pct, simulate  # noqa: E402

STAGES = {
    "standin": "Supabase today (stand-in)",
    "phase1": "After Phase 1",
    "phase3": "After Phase 3 (self-hosted, direct)",
    "phase5": "After Phase 5 (Patroni + PgBouncer)",
}
METRICS = [
    ("dashboard", "Dashboard page queries p95"),
    ("writes", "PostgreSQL writes/s at 50 nodes"),
    ("pool", "Connection pool utilisation at 50 nodes"),
    ("q30", "30-day metric query (p95)"),
    ("maxnodes", "Largest simulated node count sustained"),
]
DASHBOARD = [
    ("get_stats", "SELECT public.get_stats()"),
    ("get_form_leaderboard", "SELECT * FROM public.get_form_leaderboard(20)"),
    ("get_digit_distribution", "SELECT * FROM public.get_digit_distribution(NULL, 1000)"),
    ("recent primes", "SELECT id, form, expression, digits, found_at FROM public.primes "
                      "ORDER BY found_at DESC LIMIT 50"),
]
BENCH_METRICS = ["bench30.cpu", "bench30.mem"]
LOAD_30D = """
INSERT INTO public.metric_samples (ts, scope, metric, labels, value)
SELECT g, 'bench30-node-' || lpad(n::text, 3, '0'), m, '{}'::jsonb,
       50 + 40 * sin(extract(epoch FROM g) / 3600.0 + n) + random()
  FROM generate_series(%(end)s::timestamptz - interval '30 days', %(end)s::timestamptz - interval '1 second',
                       %(step)s::interval) AS g,
       generate_series(1, %(nodes)s) AS n, unnest(%(metrics)s::text[]) AS m"""
Q30_RAW = """
SELECT date_trunc('hour', ts) AS bucket, count(*), avg(value), min(value), max(value)
  FROM public.metric_samples
 WHERE metric = %(metric)s AND ts >= %(end)s::timestamptz - interval '30 days' AND ts < %(end)s
 GROUP BY 1 ORDER BY 1"""
Q30_AGG = """
SELECT bucket_start, sum(count), sum(sum) / sum(count), min(min), max(max)
  FROM public.metric_samples_hourly
 WHERE metric = %(metric)s AND bucket_start >= %(end)s::timestamptz - interval '30 days'
   AND bucket_start < %(end)s
 GROUP BY 1 ORDER BY 1"""
STANDIN = "supabase"
PHASE1_UNITS = ("dbfleet-dashboard-refresh", "dbfleet-partition-maintenance")
SETTINGS: list[str] = []


def note(line: str) -> None:
    """A measurement setting: printed now and again under the table."""
    SETTINGS.append(line)
    print(f"  - {line}", flush=True)


# ---------------------------------------------------------------------------
# The lab: addresses, variables, leader
# ---------------------------------------------------------------------------
def lab_vars() -> dict:
    """The templated values the benchmark needs, from the lab inventory, in one call."""
    wanted = {
        "app_user": "dbfleet_app_user", "app_password": "dbfleet_app_password",
        "app_db": "dbfleet_app_db", "supabase_password": "dbfleet_supabase_password",
        "direct_port": "dbfleet_supabase_direct_port | default(5432)",
        "pooler_port": "dbfleet_supabase_pooler_port | default(6543)",
        "pooler_pool_size": "lab_supabase_pooler_default_pool_size | default(20)",
        "redis_user": "redis_sidecar_worker_user | default('worker')",
        "redis_password": "redis_sidecar_worker_password",
        "redis_port": "redis_sidecar_port | default(6379)",
        "pgbouncer_port": "pgbouncer_listen_port | default(6432)",
        "pgbouncer_pool_size": "pgbouncer_default_pool_size | default(20)",
    }
    expr = "{{ {" + ", ".join(f"'{k}': ({v})" for k, v in wanted.items()) + "} | to_json }}"
    res = subprocess.run([str(labenv.VENV_BIN / "ansible"), "coordinator", "-i", str(lab.INVENTORY),
                          "-m", "ansible.builtin.debug", "-a", f"msg={expr}"],
                         env=labenv.podman_env({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}),
                         cwd=labenv.ROOT,
                         text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if res.returncode != 0 or "=>" not in res.stdout:
        sys.exit("success_metrics: cannot read the lab inventory's variables")
    msg = json.loads(res.stdout.split("=>", 1)[1])["msg"]
    return msg if isinstance(msg, dict) else json.loads(msg)


def lab_address(host: str) -> str:
    addr = lab.address(host)
    if not addr:
        sys.exit(f"success_metrics: {host} has no address on the lab network (make lab)")
    check_host(addr)  # loopback and 198.18.0.0/15 only
    return addr


def leader() -> str:
    data = lab.inventory()
    for host in lab.group_hosts(data, "postgres"):
        body = lab.http_get(host, "http://127.0.0.1:8008/cluster")
        if body:
            rows = lab.patroni_rows(json.loads(body))
            found = next((r[0] for r in rows if r[1] in lab.LEADER_ROLES), "")
            if found:
                return found
    sys.exit("success_metrics: no Patroni leader answers (phase 5 runs Patroni; make lab)")


def url(user: str, password: str, host: str, port: int, db: str) -> str:
    return (f"postgresql://{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}"
            f"@{host}:{port}/{urllib.parse.quote(db, safe='')}")


def connect(dsn: str):
    conn = psycopg2.connect(dsn, connect_timeout=10, application_name="dbfleet_success_metrics")
    conn.autocommit = True
    return conn


def scalar(dsn: str, query: str, args=None):
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchone()[0]
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# The stand-in's scratch copy and phase 1 on it (tests/integration/phases/test_phase1.py)
# ---------------------------------------------------------------------------
def standin_sql(command: str, timeout: float = 60) -> None:
    """psql as supabase_admin (peer login as the OS user postgres) in the stand-in."""
    out = lab.in_container(STANDIN, "runuser", "-u", "postgres", "--", "psql", "-X", "-q",
                           "-v", "ON_ERROR_STOP=1", "-U", "supabase_admin", "-d", "postgres",
                           "-c", command, timeout=timeout)
    if out is None:
        raise RuntimeError(f"psql on {STANDIN} failed: {command[:80]}")


def scratch_copy(db: str) -> None:
    standin_sql(f'CREATE DATABASE "{db}"')
    out = lab.in_container(STANDIN, "runuser", "-u", "postgres", "--", "bash", "-c",
                           f"set -o pipefail; pg_dump -U supabase_admin -d postgres | "
                           f"psql -X -q -v ON_ERROR_STOP=1 -U supabase_admin -d {db} >/dev/null",
                           timeout=900)
    if out is None:
        raise RuntimeError(f"copying the stand-in's database into {db} failed")
    standin_sql(f'GRANT ALL ON DATABASE "{db}" TO postgres; GRANT CONNECT ON DATABASE "{db}" '
                "TO anon, authenticated, service_role, authenticator")


def drop_scratch(db: str) -> None:
    standin_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', timeout=120)


def phase1_on_copy(db: str, v: dict) -> float:
    """playbooks/phase1.yml against the copy, the stand-in's container as its coordinator
    (scheduled jobs as systemd timers there; no env file touched), then its timers removed."""
    with tempfile.TemporaryDirectory() as tmp:
        inv = Path(tmp) / "phase1.inventory.yml"
        inv.write_text(json.dumps({"all": {
            "children": {"coordinator": {"hosts": {STANDIN: {
                "ansible_connection": "containers.podman.podman",
                "ansible_python_interpreter": "/usr/bin/python3"}}}},
            "vars": {"dbfleet_supabase_host": "127.0.0.1",
                     "dbfleet_supabase_direct_port": int(v["direct_port"]),
                     "dbfleet_supabase_pooler_port": int(v["pooler_port"]),
                     "dbfleet_supabase_password": v["supabase_password"],
                     "dbfleet_supabase_ssl_mode": "disable",
                     "dbfleet_app_db": db, "dbfleet_phase1_db": db,
                     "dbfleet_phase1_app_env": False,
                     # keeps every row (the smoke data ends 2025-06-01) through the conversion
                     "dbfleet_metric_samples_retention": "520 weeks"}}}))
        inv.chmod(0o600)
        labenv.ensure_collection_link()
        t0 = time.monotonic()
        res = subprocess.run([str(labenv.VENV_BIN / "ansible-playbook"), "-i", str(inv),
                              str(ROOT / "playbooks" / "phase1.yml")],
                             env=labenv.podman_env({"ANSIBLE_NOCOLOR": "1"}), cwd=str(ROOT),
                             text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=1800)
        took = time.monotonic() - t0
    units = " ".join(f"{u}.timer {u}.service" for u in PHASE1_UNITS)
    files = " ".join(f"/etc/systemd/system/{u}.timer /etc/systemd/system/{u}.service"
                     for u in PHASE1_UNITS)
    lab.in_container(STANDIN, "bash", "-c", f"systemctl disable --now {units} 2>/dev/null; "
                     f"rm -f {files} /etc/dbfleet/phase1-source.env; systemctl daemon-reload; "
                     "userdel dbfleet-jobs 2>/dev/null; true")
    if res.returncode != 0:
        raise RuntimeError(f"phase1.yml on the copy failed:\n{res.stdout[-3000:]}")
    return took


# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------
def load_30d(dsn: str, step: str, nodes: int = 50) -> tuple[int, str]:
    """30 days of samples ending an hour ago; returns (rows, end)."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT (date_trunc('hour', now()) - interval '1 hour')::text")
            end = cur.fetchone()[0]
            cur.execute("DELETE FROM public.metric_samples WHERE metric = ANY(%s)", (BENCH_METRICS,))
            cur.execute(LOAD_30D, {"end": end, "step": step, "nodes": nodes, "metrics": BENCH_METRICS})
            rows = cur.rowcount
            cur.execute("ANALYZE public.metric_samples")
        return rows, end
    finally:
        conn.close()


def refresh_hourly(dsn: str) -> str:
    """Refresh metric_samples_hourly now, as its schedule would; returns what it is."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass('public.metric_samples_hourly')")
            row = cur.fetchone()
            if row is None:
                return ""
            if row[0] == "m":
                cur.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY public.metric_samples_hourly")
                kind = "materialized view"
            else:
                cur.execute("CALL refresh_continuous_aggregate('public.metric_samples_hourly', NULL, NULL)")
                kind = "continuous aggregate"
            cur.execute("ANALYZE public.metric_samples_hourly")
            return kind
    finally:
        conn.close()


def query_30d(dsn: str, query: str, end: str, runs: int) -> dict:
    conn = connect(dsn)
    times, rows = [], 0
    try:
        with conn.cursor() as cur:
            for i in range(runs + 2):
                t0 = time.perf_counter()
                cur.execute(query, {"metric": BENCH_METRICS[i % 2], "end": end})
                rows = len(cur.fetchall())
                if i >= 2:  # two warm-up runs
                    times.append((time.perf_counter() - t0) * 1000)
    finally:
        conn.close()
    return {"p50": pct(times, 0.5), "p95": pct(times, 0.95), "buckets": rows, "runs": runs}


class Sampler(threading.Thread):
    """Samples the connection utilisation of a stage's path every second."""

    def __init__(self, mode: str, server_dsn: str, pool_size: int, exporter: str = "", db: str = ""):
        super().__init__(daemon=True)
        self.mode, self.server_dsn, self.pool_size, self.exporter, self.db = \
            mode, server_dsn, pool_size, exporter, db
        self.stop = threading.Event()
        self.server: list[int] = []   # client backends on the server
        self.pooled: list[int] = []   # server connections of the pooler
        self.clients: list[int] = []  # the pooler's clients
        self.max_connections = 0
        self.error = ""

    def run(self) -> None:
        try:
            conn = connect(self.server_dsn)
        except psycopg2.Error as exc:
            self.error = str(exc).strip()
            return
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('max_connections')::int")
            self.max_connections = cur.fetchone()[0]
            while not self.stop.wait(1.0):
                try:
                    cur.execute("SELECT count(*) FILTER (WHERE backend_type = 'client backend'), "
                                "count(*) FILTER (WHERE backend_type = 'client backend' AND datname = %s "
                                "AND (client_addr IS NULL OR host(client_addr) IN ('127.0.0.1', '::1'))) "
                                "FROM pg_stat_activity", (self.db,))
                    total, loop = cur.fetchone()
                    self.server.append(total)
                    if self.mode == "standin-pooler":
                        self.pooled.append(loop)
                    if self.mode == "pgbouncer":
                        with urllib.request.urlopen(self.exporter, timeout=5) as resp:  # noqa: S310
                            pools = lab.pool_rows(resp.read().decode())
                        mine = [p for (db, _user), p in pools.items() if db == self.db]
                        self.pooled.append(sum(int(p.get("sv_active", 0) or 0) + int(p.get("sv_idle", 0) or 0)
                                               for p in mine))
                        self.clients.append(sum(int(p.get("cl_active", 0) or 0) + int(p.get("cl_waiting", 0) or 0)
                                                for p in mine))
                except (psycopg2.Error, OSError, ValueError) as exc:
                    self.error = str(exc).strip()[:200]
        conn.close()

    def cell(self) -> tuple[str, str]:
        if self.mode == "direct":
            peak = max(self.server or [0])
            share = peak / max(self.max_connections, 1)
            return (f"{share:.0%} ({peak}/{self.max_connections} connections)",
                    f"client backends / max_connections, peak {peak}, mean "
                    f"{statistics.mean(self.server or [0]):.1f} of {self.max_connections}")
        peak = max(self.pooled or [0])
        share = peak / max(self.pool_size, 1)
        extra = (f"; clients peak {max(self.clients or [0])}" if self.clients else "")
        return (f"{share:.0%} ({peak}/{self.pool_size} pool server connections)",
                f"pool server connections peak {peak}, mean {statistics.mean(self.pooled or [0]):.1f} "
                f"of pool size {self.pool_size}{extra}; server: peak {max(self.server or [0])} "
                f"of max_connections {self.max_connections}")


def settle(server_dsn: str, seconds: float = 90) -> None:
    """Wait until the server has room again after a ramp step that filled it (its client
    backends under half of max_connections), then for PgBouncer's server_login_retry (15 s),
    which otherwise answers every new client with the cached "too many clients"."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            busy = scalar(server_dsn, "SELECT count(*) FILTER (WHERE backend_type = 'client backend') "
                                      "< current_setting('max_connections')::int / 2 FROM pg_stat_activity")
            if busy:
                break
        except psycopg2.Error:
            pass
        time.sleep(2)
    time.sleep(16)


def dashboard_pages(dsn: str, stop: threading.Event, out: dict) -> None:
    """Page loads until ``stop``; per-page and per-query times in ms into ``out``."""
    pages, per = [], {name: [] for name, _ in DASHBOARD}
    try:
        conn = connect(dsn)
    except psycopg2.Error as exc:
        out["error"], out["pages"], out["per"] = str(exc).strip(), pages, per
        return
    try:
        with conn.cursor() as cur:
            while not stop.is_set():
                start = time.perf_counter()
                for name, query in DASHBOARD:
                    t0 = time.perf_counter()
                    cur.execute(query)
                    cur.fetchall()
                    per[name].append((time.perf_counter() - t0) * 1000)
                pages.append((time.perf_counter() - start) * 1000)
                stop.wait(0.05)
    except psycopg2.Error as exc:
        out["error"] = str(exc).strip()
    finally:
        conn.close()
    out["pages"], out["per"] = pages, per


def sim_summary(state: dict) -> dict:
    ack = state.get("acknowledged", {})
    errors = state.get("errors", {}).get("total", 0)
    pg_tx = sum(v for k, v in ack.items() if k != "heartbeat_redis")
    claim = state.get("latency", {}).get("claim_work_block", {})
    return {"pg_tx": pg_tx, "errors": errors, "secs": state.get("elapsed_s", 0) or 1,
            "claim_p95": claim.get("p95_ms"), "claims": claim.get("count", 0),
            "last_error": state.get("last_error", "")}


def run_sim(dsn: str, redis_url: str | None, nodes: int, seconds: float) -> dict:
    return sim_summary(simulate(dsn, redis_url, nodes, seconds,
                                extra_env={"DB_MAX_CONNECTIONS": nodes}))


def holds(s: dict, threshold_ms: float) -> tuple[bool, str]:
    total = s["pg_tx"] + s["errors"]
    err_share = s["errors"] / total if total else 1.0
    p95 = s["claim_p95"]
    ok = err_share < 0.01 and p95 is not None and p95 <= threshold_ms and s["claims"] > 0
    why = (f"{s['pg_tx']} tx, {s['errors']} errors ({err_share:.1%}), claim p95 "
           f"{'-' if p95 is None else f'{p95:.0f} ms'}")
    if s["errors"] and s["last_error"]:
        why += f"; last error: {s['last_error'][:120]}"
    return ok, why


def ramp_cell(best: int, failed: bool, cap: int) -> str:
    """The table's cell for the ramp: the largest step that held."""
    if not best:
        return "< 50"
    return str(best) if failed else f">= {best} (cap {cap})"


def measure_stage(key: str, dsn: str, redis_url: str | None, sampler: Sampler, q30: tuple,
                  args) -> dict:
    """The five metrics of one stage."""
    title = STAGES[key]
    print(f"\n== {title}", flush=True)
    settle(sampler.server_dsn)
    cells = {}
    # 50 nodes: writes/s, utilisation and the dashboard, at the same time
    dash: dict = {}
    stop = threading.Event()
    sampler.start()
    dthread = threading.Thread(target=dashboard_pages, args=(dsn, stop, dash), daemon=True)
    dthread.start()
    s50 = run_sim(dsn, redis_url, 50, args.sim_seconds)
    stop.set()
    sampler.stop.set()
    dthread.join()
    sampler.join()
    cells["writes"] = f"{s50['pg_tx'] / s50['secs']:.1f}"
    note(f"{title}: 50 nodes for {args.sim_seconds:g} s, heartbeats in "
         f"{'Redis' if redis_url else 'PostgreSQL'}: {s50['pg_tx']} write transactions "
         f"acknowledged in {s50['secs']:.0f} s, {s50['errors']} errors, claim p95 "
         f"{s50['claim_p95']} ms")
    cells["pool"], line = sampler.cell()
    note(f"{title}: connections: {line}{'; sampler: ' + sampler.error if sampler.error else ''}")
    if dash.get("pages"):
        cells["dashboard"] = f"{pct(dash['pages'], 0.95):.1f} ms"
        per = ", ".join(f"{n} {pct(v, 0.95):.1f}" for n, v in dash["per"].items())
        note(f"{title}: dashboard: {len(dash['pages'])} page loads during the 50-node run, page p50 "
             f"{pct(dash['pages'], 0.5):.1f} ms; per-query p95 ms: {per}")
    else:
        cells["dashboard"] = "failed"
        note(f"{title}: dashboard failed: {dash.get('error', '?')}")
    # 30-day query
    label, query, end = q30
    r = query_30d(dsn, query, end, args.q30_runs)
    cells["q30"] = f"{r['p95']:.1f} ms"
    note(f"{title}: 30-day query from {label}: p50 {r['p50']:.1f} / p95 {r['p95']:.1f} ms over "
         f"{r['runs']} runs, {r['buckets']} hourly buckets")
    # ramp
    ok50, why50 = holds(s50, args.threshold_ms)
    best, failed = (50 if ok50 else 0), not ok50
    steps = [f"50: {'holds' if ok50 else 'fails'} ({why50})"]
    n = 100
    while not failed and n <= args.cap:
        s = run_sim(dsn, redis_url, n, args.ramp_seconds)
        ok, why = holds(s, args.threshold_ms)
        steps.append(f"{n}: {'holds' if ok else 'fails'} ({why})")
        print(f"    ramp {steps[-1]}", flush=True)
        if not ok:
            failed = True
            settle(sampler.server_dsn)
            break
        best = n
        n *= 2
    cells["maxnodes"] = ramp_cell(best, failed, args.cap)
    note(f"{title}: ramp ({args.ramp_seconds:g} s per step, threshold claim p95 "
         f"{args.threshold_ms:g} ms, errors < 1 %): " + "; ".join(steps))
    return cells


# ---------------------------------------------------------------------------
def table(results: dict[str, dict]) -> str:
    cols = [k for k in STAGES if k in results]
    lines = ["| Metric | " + " | ".join(STAGES[k] for k in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for key, label in METRICS:
        lines.append(f"| {label} | " + " | ".join(results[k].get(key, "") for k in cols) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short run (about a quarter of the time)")
    ap.add_argument("--stages", default=",".join(STAGES), help=f"some of {', '.join(STAGES)}")
    ap.add_argument("--cap", type=int, help="largest node count tried (default 800, --quick 400)")
    ap.add_argument("--threshold-ms", type=float, default=500.0,
                    help="p95 of claim_work_block() a ramp step must stay under (default 500)")
    ap.add_argument("--keep", action="store_true", help="keep the bench30.* samples on the leader")
    args = ap.parse_args()
    args.sim_seconds = 30.0 if args.quick else 60.0
    args.ramp_seconds = 20.0 if args.quick else 40.0
    args.cap = args.cap or (400 if args.quick else 800)
    args.q30_runs = 10 if args.quick else 30
    args.step = "10 minutes" if args.quick else "2 minutes"
    if not 50 <= args.cap <= 1000:
        ap.error("--cap must be between 50 and 1000 (the simulator's limit)")
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    if set(stages) - set(STAGES):
        ap.error(f"unknown stage(s): {', '.join(set(stages) - set(STAGES))}")
    labenv.require_root()

    v = lab_vars()
    running = {n for n, c in lab.lab_containers().items() if c.get("State") == "running"}
    results: dict[str, dict] = {}
    started = time.monotonic()
    print(f"success metrics ({'quick' if args.quick else 'full'} run), "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
    note(f"every stage: the fleet simulator on this machine, pool of one connection per node; "
         f"30-day data: 50 nodes x {len(BENCH_METRICS)} metrics, one sample per {args.step}")

    if {"standin", "phase1"} & set(stages):
        if STANDIN not in running:
            sys.exit("success_metrics: the stand-in container is not running (make lab)")
        sb = lab_address(STANDIN)
        direct_admin = url(v["app_user"], v["supabase_password"], sb, int(v["direct_port"]), "postgres")
        primes = scalar(direct_admin, "SELECT count(*) FROM public.primes")
        note(f"the stand-in stays in the lab after the cutover: {STANDIN} ({sb}) answers, "
             f"{primes} primes in its database postgres (left untouched; measured on a copy)")
        db = f"sm_{uuid.uuid4().hex[:10]}"
        try:
            t0 = time.monotonic()
            scratch_copy(db)
            direct = url(v["app_user"], v["supabase_password"], sb, int(v["direct_port"]), db)
            pooled = url(v["app_user"], v["supabase_password"], sb, int(v["pooler_port"]), db)
            rows, end = load_30d(direct, args.step)
            note(f"stand-in copy {db}: made in {time.monotonic() - t0:.0f} s, {rows:,} bench30 samples "
                 f"loaded (30 days ending {end})")
            if "standin" in stages:
                results["standin"] = measure_stage(
                    "standin", direct, None, Sampler("direct", direct, 0),
                    ("the raw table", Q30_RAW, end), args)
            if "phase1" in stages:
                took = phase1_on_copy(db, v)
                parts = scalar(direct, "SELECT count(*) FROM pg_inherits WHERE inhparent = "
                                       "'public.metric_samples'::regclass")
                note(f"phase1.yml on the copy: {took:.0f} s; metric_samples in {parts} weekly partitions")
                results["phase1"] = measure_stage(
                    "phase1", pooled, None,
                    Sampler("standin-pooler", direct, int(v["pooler_pool_size"]), db=db),
                    ("the weekly partitions", Q30_RAW, end), args)
        finally:
            drop_scratch(db)

    if {"phase3", "phase5"} & set(stages):
        pg = leader()
        pg_addr = lab_address(pg)
        co_addr = lab_address("coordinator")
        direct = url(v["app_user"], v["app_password"], pg_addr, 5432, v["app_db"])
        bouncer = url(v["app_user"], v["app_password"], co_addr, int(v["pgbouncer_port"]), v["app_db"])
        redis_url = (f"redis://{urllib.parse.quote(v['redis_user'], safe='')}:"
                     f"{urllib.parse.quote(v['redis_password'], safe='')}@{co_addr}:{int(v['redis_port'])}/0")
        try:
            t0 = time.monotonic()
            rows, end = load_30d(direct, args.step)
            kind = refresh_hourly(direct)
            note(f"leader {pg} ({pg_addr}): {rows:,} bench30 samples loaded into the hypertable and "
                 f"metric_samples_hourly ({kind or 'missing'}) refreshed in {time.monotonic() - t0:.0f} s")
            raw = query_30d(direct, Q30_RAW, end, args.q30_runs)
            note(f"leader: the same 30-day query from the raw hypertable: p50 {raw['p50']:.1f} / "
                 f"p95 {raw['p95']:.1f} ms (the aggregate's figure is in the table)")
            q30 = ("metric_samples_hourly", Q30_AGG, end) if kind else ("the hypertable", Q30_RAW, end)
            if "phase3" in stages:
                results["phase3"] = measure_stage("phase3", direct, redis_url,
                                                  Sampler("direct", direct, 0), q30, args)
            if "phase5" in stages:
                exporter = f"http://{co_addr}:9127/metrics"
                results["phase5"] = measure_stage(
                    "phase5", bouncer, redis_url,
                    Sampler("pgbouncer", direct, int(v["pgbouncer_pool_size"]), exporter, v["app_db"]),
                    q30, args)
        finally:
            if not args.keep:
                conn = connect(direct)
                with conn.cursor() as cur:
                    cur.execute("DELETE FROM public.metric_samples WHERE metric = ANY(%s)", (BENCH_METRICS,))
                conn.close()
                refresh_hourly(direct)

    print(f"\nSuccess metrics, measured in the lab ({'quick' if args.quick else 'full'} run, "
          f"{(time.monotonic() - started) / 60:.0f} min):\n")
    print(table(results))
    print("\nSettings:")
    for line in SETTINGS:
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
