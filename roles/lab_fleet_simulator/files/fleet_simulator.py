#!/usr/bin/env python3
"""darkreach fleet simulator: behaves like darkreach towards its databases.

    fleet_simulator.py run    [--env-file /opt/darkreach/.env] [--nodes 4] [--listen 127.0.0.1:9640]
    fleet_simulator.py verify [--env-file ...] [--state-file ... | --url http://127.0.0.1:9640/state]

`run` starts N simulated compute nodes plus a coordinator and a dashboard loop:
  * every node heartbeats every --heartbeat-interval seconds (10): the
    worker_heartbeat() upsert in PostgreSQL, or `SET worker:{id} <json> EX 60` in
    Redis when REDIS_URL is set (the node still registers once in PostgreSQL);
  * every node claims a work block (claim_work_block(): FOR UPDATE SKIP LOCKED),
    works on it for --block-seconds, completes it (complete_work_block()) and
    sometimes records a prime, in the same transaction;
  * every node inserts four metric samples per heartbeat, and now and then a log line;
  * the coordinator creates search jobs when blocks run low and reclaims stale blocks;
  * the dashboard loop calls get_stats(), get_form_leaderboard() and
    get_digit_distribution(), on REPLICA_DATABASE_URL when it is set.
A write counts as acknowledged only once its COMMIT returned. While a database is
away the simulator keeps running, retrying and counting errors; it reconnects on
its own. Counters (acknowledged writes per table with their ids, errors, latency
percentiles) are served as JSON over HTTP (GET /stats, GET /state with ids) and
written to --state-file.

`verify` compares the acknowledged writes of a state file (or of a running
simulator's /state) with the rows in DATABASE_URL and exits 1 if any acknowledged
write is missing.

Environment file keys: DATABASE_URL (required), REPLICA_DATABASE_URL, REDIS_URL,
DB_MAX_CONNECTIONS (pool size, default 10). Standard library + psycopg2, and
redis-py when REDIS_URL is set.
Exit codes: 0 ok, 1 verification found missing writes, 2 bad configuration.
"""
from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import os
import random
import signal
import socket
import sys
import threading
import time
import urllib.request
from collections import defaultdict, deque

DEFAULT_ENV_FILE = "/opt/darkreach/.env"
DEFAULT_LISTEN = "127.0.0.1:9640"
DEFAULT_STATE_FILE = "/var/lib/darkreach-sim/state.json"
FORMS = ["factorial", "primorial", "kbn", "twin", "sophie_germain", "palindromic",
         "near_repdigit", "cullen_woodall", "wagstaff", "carol_kynea", "gen_fermat", "repunit"]
ID_TABLES = ["primes", "metric_samples", "system_logs", "search_jobs", "work_blocks_completed"]


def die(message: str) -> None:
    print(f"fleet_simulator: {message}", file=sys.stderr)
    raise SystemExit(2)


def read_env_file(path: str) -> dict:
    """KEY=VALUE lines (optional `export `, quotes, comments), like systemd's EnvironmentFile."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        die(f"env file {path} does not exist (set --env-file or create it with DATABASE_URL=...)")
    except OSError as exc:
        die(f"cannot read env file {path}: {exc}")
    env = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip()
        if key.startswith("export "):
            key = key[len("export "):].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        env[key] = value
    return env


def load_config(path: str) -> dict:
    env = read_env_file(path)
    if not env.get("DATABASE_URL"):
        die(f"env file {path} has no DATABASE_URL; darkreach needs it "
            f"(DATABASE_URL=postgresql://USER:PASSWORD@HOST:PORT/DB)")
    try:
        maxconn = int(env.get("DB_MAX_CONNECTIONS") or 10)
    except ValueError:
        die(f"DB_MAX_CONNECTIONS in {path} is not an integer: {env['DB_MAX_CONNECTIONS']!r}")
    if maxconn < 1:
        die(f"DB_MAX_CONNECTIONS in {path} must be at least 1, got {maxconn}")
    env["DB_MAX_CONNECTIONS"] = maxconn
    return env


def import_psycopg2():
    try:
        import psycopg2  # noqa: PLC0415
        import psycopg2.extras  # noqa: F401, PLC0415
    except ImportError:
        die("psycopg2 is missing (apt-get install python3-psycopg2, or pip install psycopg2-binary)")
    return psycopg2


# ---------------------------------------------------------------------------
# Counters
# ---------------------------------------------------------------------------
class Stats:
    """Everything the simulator reports; all updates under one lock."""

    def __init__(self, nodes: int, mode: str):
        self.lock = threading.Lock()
        self.started = time.time()
        self.nodes = nodes
        self.mode = mode
        self.acked = defaultdict(int)          # acknowledged write transactions per kind
        self.acked_rows = defaultdict(int)     # acknowledged rows per table
        self.ids = {name: [] for name in ID_TABLES}
        self.heartbeat_ts = {}                 # worker -> server now() of last acked heartbeat
        self.redis_heartbeats = defaultdict(int)
        self.errors = defaultdict(int)
        self.last_error = ""
        self.last_error_at = None
        self.reads = defaultdict(int)
        self.latency = defaultdict(lambda: deque(maxlen=2000))
        self.latency_count = defaultdict(int)

    def ack(self, kind: str, table: str | None = None, ids=(), rows: int | None = None):
        with self.lock:
            self.acked[kind] += 1
            if table:
                self.acked_rows[table] += len(ids) if rows is None else rows
                if table in self.ids:
                    self.ids[table].extend(ids)

    def error(self, kind: str, exc: BaseException):
        with self.lock:
            self.errors[kind] += 1
            self.errors["total"] += 1
            self.last_error = f"{kind}: {type(exc).__name__}: {str(exc).strip()[:300]}"
            self.last_error_at = time.time()

    def observe(self, op: str, seconds: float):
        with self.lock:
            self.latency[op].append(seconds)
            self.latency_count[op] += 1

    def summary(self, with_ids: bool = False) -> dict:
        with self.lock:
            elapsed = max(time.time() - self.started, 1e-9)
            writes = sum(v for k, v in self.acked.items())
            lat = {}
            for op, values in self.latency.items():
                s = sorted(values)
                if not s:
                    continue

                def pct(p, s=s):
                    return round(s[min(len(s) - 1, int(p / 100 * len(s)))] * 1000, 2)
                lat[op] = {"count": self.latency_count[op], "p50_ms": pct(50), "p95_ms": pct(95),
                           "p99_ms": pct(99), "max_ms": round(s[-1] * 1000, 2)}
            out = {
                "started_at": self.started, "now": time.time(), "elapsed_s": round(elapsed, 1),
                "nodes": self.nodes, "heartbeat_store": self.mode,
                "acknowledged": dict(self.acked),
                "acknowledged_rows": dict(self.acked_rows),
                "acknowledged_write_tx_per_s": round(writes / elapsed, 3),
                "acknowledged_write_tx_per_s_per_node": round(writes / elapsed / self.nodes, 3),
                "acknowledged_rows_per_s_per_node": round(
                    sum(self.acked_rows.values()) / elapsed / self.nodes, 3),
                "reads": dict(self.reads),
                "errors": dict(self.errors),
                "last_error": self.last_error, "last_error_at": self.last_error_at,
                "latency": lat,
            }
            if with_ids:
                out["ids"] = {k: list(v) for k, v in self.ids.items()}
                out["heartbeat_ts"] = dict(self.heartbeat_ts)
            return out


# ---------------------------------------------------------------------------
# Connections
# ---------------------------------------------------------------------------
class PoolTimeout(Exception):
    pass


class Pool:
    """At most `size` connections; broken ones are dropped and re-made on demand."""

    def __init__(self, psycopg2, dsn: str, size: int, name: str):
        self.pg = psycopg2
        self.dsn = dsn
        self.name = name
        self.sem = threading.BoundedSemaphore(size)
        self.idle: list = []
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def connection(self):
        if not self.sem.acquire(timeout=30):
            raise PoolTimeout(f"no free connection in the {self.name} pool after 30 s")
        conn = None
        try:
            with self.lock:
                conn = self.idle.pop() if self.idle else None
            if conn is None or conn.closed:
                conn = self.pg.connect(self.dsn, connect_timeout=5,
                                       application_name="darkreach_fleet_simulator",
                                       keepalives=1, keepalives_idle=10,
                                       keepalives_interval=5, keepalives_count=3)
            yield conn
        except BaseException:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
            conn = None
            raise
        finally:
            if conn is not None and not conn.closed:
                with self.lock:
                    self.idle.append(conn)
            self.sem.release()

    def close(self):
        with self.lock:
            for conn in self.idle:
                with contextlib.suppress(Exception):
                    conn.close()
            self.idle.clear()


class Simulator:
    def __init__(self, cfg: dict, args, psycopg2):
        self.pg = psycopg2
        self.args = args
        self.cfg = cfg
        self.stop = threading.Event()
        self.redis = None
        if cfg.get("REDIS_URL"):
            try:
                import redis  # noqa: PLC0415
            except ImportError:
                die("REDIS_URL is set but redis-py is missing (apt-get install python3-redis)")
            self.redis = redis.Redis.from_url(cfg["REDIS_URL"], socket_timeout=3,
                                              socket_connect_timeout=3)
        self.stats = Stats(args.nodes, "redis" if self.redis else "postgresql")
        self.pool = Pool(psycopg2, cfg["DATABASE_URL"], cfg["DB_MAX_CONNECTIONS"], "primary")
        replica = cfg.get("REPLICA_DATABASE_URL")
        self.replica = Pool(psycopg2, replica, max(1, cfg["DB_MAX_CONNECTIONS"] // 2),
                            "replica") if replica else None
        prefix = args.id_prefix or f"sim-{socket.gethostname()}"
        self.workers = [f"{prefix}-{i:03d}"[:64] for i in range(1, args.nodes + 1)]
        self.registered = set()
        self.rng = random.Random(args.seed)
        self.rng_lock = threading.Lock()

    # -- plumbing ----------------------------------------------------------
    def tx(self, op: str, fn, pool: Pool | None = None):
        """Run fn(cursor) in one transaction; returns (True, result) after COMMIT."""
        pool = pool or self.pool
        t0 = time.monotonic()
        try:
            with pool.connection() as conn:
                try:
                    with conn.cursor() as cur:
                        result = fn(cur)
                    conn.commit()
                except Exception:
                    with contextlib.suppress(Exception):
                        conn.rollback()
                    raise
        except (self.pg.Error, PoolTimeout, OSError) as exc:
            self.stats.error(op, exc)
            return False, None
        self.stats.observe(op, time.monotonic() - t0)
        return True, result

    def sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; True if the simulator should go on."""
        return not self.stop.wait(seconds)

    def rand(self):
        with self.rng_lock:
            return self.rng.random()

    # -- node behaviour ------------------------------------------------------
    def heartbeat_pg(self, wid: str) -> bool:
        metrics = {"load": round(self.rand() * 4, 2), "sim": True}

        def fn(cur):
            cur.execute("SELECT public.worker_heartbeat(%s, %s, %s, %s, %s, %s::jsonb), "
                        "now()::text",
                        (wid, socket.gethostname(), 4, "sim-1.0", "searching",
                         json.dumps(metrics)))
            return cur.fetchone()[1]
        ok, server_ts = self.tx("heartbeat", fn)
        if ok:
            self.stats.ack("heartbeat", "workers", rows=1)
            with self.stats.lock:
                self.stats.heartbeat_ts[wid] = server_ts
            self.registered.add(wid)
        return ok

    def heartbeat_redis(self, wid: str):
        payload = json.dumps({"id": wid, "hostname": socket.gethostname(), "cores": 4,
                              "status": "searching", "ts": time.time()})
        t0 = time.monotonic()
        try:
            self.redis.set(f"worker:{wid}", payload, ex=60)
        except Exception as exc:  # redis.RedisError and socket errors
            self.stats.error("heartbeat_redis", exc)
            return
        self.stats.observe("heartbeat_redis", time.monotonic() - t0)
        self.stats.ack("heartbeat_redis")
        with self.stats.lock:
            self.stats.redis_heartbeats[wid] += 1

    def metrics(self, wid: str, load: float):
        rows = [
            (wid, "cpu_percent", json.dumps({"unit": "percent"}), round(load * 100, 2)),
            (wid, "mem_used_mb", json.dumps({"unit": "MiB"}), round(2048 + self.rand() * 4096, 1)),
            (wid, "candidates_tested", json.dumps({"form": "kbn"}), int(load * 5000)),
            (wid, "blocks_completed", json.dumps({}), int(self.rand() < 0.5)),
        ]

        def fn(cur):
            values = ",".join(["(now(), %s, %s, %s::jsonb, %s)"] * len(rows))
            cur.execute("INSERT INTO public.metric_samples (ts, scope, metric, labels, value) "
                        f"VALUES {values} RETURNING id", [v for r in rows for v in r])
            return [r[0] for r in cur.fetchall()]
        ok, ids = self.tx("metric_samples", fn)
        if ok:
            self.stats.ack("metric_samples", "metric_samples", ids)

    def log_line(self, wid: str, level: str, message: str):
        def fn(cur):
            cur.execute("INSERT INTO public.system_logs (level, source, worker_id, message, context) "
                        "VALUES (%s, 'worker', %s, %s, %s::jsonb) RETURNING id",
                        (level, wid, message, json.dumps({"sim": True})))
            return [cur.fetchone()[0]]
        ok, ids = self.tx("system_logs", fn)
        if ok:
            self.stats.ack("system_logs", "system_logs", ids)

    def work_once(self, wid: str) -> bool:
        def claim(cur):
            cur.execute("SELECT id, search_job_id, block_start, block_end "
                        "FROM public.claim_work_block(%s)", (wid,))
            return cur.fetchone()
        ok, block = self.tx("claim_work_block", claim)
        if not ok or block is None:
            return False
        self.stats.ack("claim_work_block", "work_blocks_claimed", rows=1)
        block_id, job_id, start, end = block
        if not self.sleep(self.args.block_seconds * (0.5 + self.rand())):
            return True  # stopping: the block stays claimed, reclaimed later
        found = self.rand() < self.args.prime_probability

        def complete(cur):
            cur.execute("SELECT public.complete_work_block(%s, %s, %s, %s)",
                        (block_id, wid, end - start, int(found)))
            done = cur.fetchone()[0]
            prime_ids = []
            if done and found:
                n = 1_000_000 + (start % 1_000_000)
                cur.execute(
                    "INSERT INTO public.primes (form, expression, digits, search_job_id, worker_id, "
                    "proof_method, metadata) VALUES ('kbn', %s, %s, %s, %s, 'prp', %s::jsonb) "
                    "ON CONFLICT (expression) DO NOTHING RETURNING id",
                    (f"{2 * block_id + 1}*2^{n}+1", int(n * 0.30103) + 1, job_id, wid,
                     json.dumps({"sim": True, "block": block_id})))
                prime_ids = [r[0] for r in cur.fetchall()]
            return done, prime_ids
        ok, result = self.tx("complete_work_block", complete)
        if ok and result[0]:
            self.stats.ack("complete_work_block", "work_blocks_completed", [block_id])
            if result[1]:
                self.stats.ack("primes", "primes", result[1])
        return True

    def node(self, index: int, wid: str):
        # Spread the nodes over the first heartbeat interval.
        if not self.sleep(self.args.heartbeat_interval * index / max(1, len(self.workers))):
            return
        next_beat = 0.0
        load = self.rand()
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_beat:
                next_beat = now + self.args.heartbeat_interval
                if self.redis is None or wid not in self.registered:
                    self.heartbeat_pg(wid)
                if self.redis is not None:
                    self.heartbeat_redis(wid)
                load = min(1.0, max(0.0, load + (self.rand() - 0.5) * 0.2))
                self.metrics(wid, load)
                if self.rand() < 0.1:
                    self.log_line(wid, "info", f"{wid} heartbeat load={load:.2f}")
            if wid in self.registered and self.work_once(wid):
                continue
            self.sleep(min(1.0, max(0.05, next_beat - time.monotonic())))

    # -- coordinator and dashboard ---------------------------------------------
    def coordinator(self):
        last_reclaim = 0.0
        while not self.stop.is_set():
            def refill(cur):
                # Blocks a node can claim (claim_work_block()'s condition): available blocks
                # of paused or finished jobs would otherwise stop the refill for good.
                cur.execute("SELECT count(*) FROM public.work_blocks AS wb "
                            "JOIN public.search_jobs AS j ON j.id = wb.search_job_id "
                            "WHERE wb.status = 'available' AND j.status IN ('pending', 'running')")
                if cur.fetchone()[0] >= len(self.workers) * 5:
                    return None
                blocks = max(50, len(self.workers) * 20)
                form = FORMS[int(self.rand() * len(FORMS))]
                cur.execute("SELECT coalesce(max(range_end), 0) FROM public.search_jobs")
                start = cur.fetchone()[0] + 1
                cur.execute("INSERT INTO public.search_jobs (form, params, range_start, range_end, "
                            "block_size, status, blocks_total) VALUES (%s, %s::jsonb, %s, %s, "
                            "1000, 'running', %s) RETURNING id",
                            (form, json.dumps({"sim": True}), start, start + 1000 * blocks, blocks))
                job = cur.fetchone()[0]
                cur.execute("INSERT INTO public.work_blocks (search_job_id, block_start, block_end) "
                            "SELECT %s, %s + g * 1000, %s + g * 1000 + 1000 "
                            "FROM generate_series(0, %s - 1) AS g", (job, start, start, blocks))
                return job
            ok, job = self.tx("create_search_job", refill)
            if ok and job is not None:
                self.stats.ack("create_search_job", "search_jobs", [job])
            if time.monotonic() - last_reclaim > 60:
                ok, _ = self.tx("reclaim_stale_blocks", lambda cur: cur.execute(
                    "SELECT public.reclaim_stale_blocks(interval '2 minutes')"))
                if ok:
                    last_reclaim = time.monotonic()
            self.sleep(5)

    def dashboard(self):
        pool = self.replica or self.pool
        where = "replica" if self.replica else "primary"
        queries = [("get_stats", "SELECT public.get_stats()"),
                   ("get_form_leaderboard", "SELECT * FROM public.get_form_leaderboard(20)"),
                   ("get_digit_distribution", "SELECT * FROM public.get_digit_distribution(NULL, 1000)")]
        while not self.stop.is_set():
            for name, query in queries:
                ok, _ = self.tx(f"{name}@{where}", lambda cur, q=query: (cur.execute(q),
                                                                         cur.fetchall()), pool)
                if ok:
                    with self.stats.lock:
                        self.stats.reads[where] += 1
            self.sleep(self.args.dashboard_interval)

    # -- state -----------------------------------------------------------------
    def write_state(self):
        path = self.args.state_file
        if not path:
            return
        data = self.stats.summary(with_ids=True)
        tmp = f"{path}.tmp"
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, path)
        except OSError as exc:
            self.stats.error("state_file", exc)

    def serve(self):
        host, _, port = self.args.listen.rpartition(":")
        sim = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.path in ("/", "/stats", "/metrics.json"):
                    body = sim.stats.summary()
                elif self.path == "/state":
                    body = sim.stats.summary(with_ids=True)
                elif self.path == "/healthz":
                    body = {"ok": True}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        try:
            server = http.server.ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
        except (OSError, ValueError) as exc:
            die(f"cannot listen on {self.args.listen}: {exc}")
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
        return server

    def run(self) -> int:
        server = self.serve()
        threads = [threading.Thread(target=self.node, args=(i, w), name=w, daemon=True)
                   for i, w in enumerate(self.workers)]
        threads.append(threading.Thread(target=self.coordinator, name="coordinator", daemon=True))
        threads.append(threading.Thread(target=self.dashboard, name="dashboard", daemon=True))
        for t in threads:
            t.start()
        print(f"fleet_simulator: {len(self.workers)} nodes, heartbeats to "
              f"{self.stats.mode}, serving http://{self.args.listen}/stats", flush=True)
        deadline = time.monotonic() + self.args.duration if self.args.duration else None
        while not self.stop.is_set():
            self.stop.wait(self.args.state_interval)
            self.write_state()
            if deadline and time.monotonic() >= deadline:
                self.stop.set()
        for t in threads:
            t.join(timeout=self.args.block_seconds * 2 + 40)
        self.write_state()
        server.shutdown()
        self.pool.close()
        if self.replica:
            self.replica.close()
        print(json.dumps(self.stats.summary()), flush=True)
        return 0


# ---------------------------------------------------------------------------
# verify
# ---------------------------------------------------------------------------
def verify(cfg: dict, args, psycopg2) -> int:
    if args.url:
        try:
            with urllib.request.urlopen(args.url, timeout=30) as resp:  # noqa: S310 - operator URL
                state = json.load(resp)
        except (OSError, ValueError) as exc:
            die(f"cannot read simulator state from {args.url}: {exc}")
    else:
        try:
            with open(args.state_file, encoding="utf-8") as fh:
                state = json.load(fh)
        except (OSError, ValueError) as exc:
            die(f"cannot read state file {args.state_file}: {exc}")
    checks = {
        "primes": "SELECT id FROM public.primes WHERE id = ANY(%s)",
        "metric_samples": "SELECT id FROM public.metric_samples WHERE id = ANY(%s)",
        "system_logs": "SELECT id FROM public.system_logs WHERE id = ANY(%s)",
        "search_jobs": "SELECT id FROM public.search_jobs WHERE id = ANY(%s)",
        "work_blocks_completed": "SELECT id FROM public.work_blocks "
                                 "WHERE id = ANY(%s) AND status = 'completed'",
    }
    report = {"tables": {}, "lost": 0}
    try:
        conn = psycopg2.connect(args.dsn or cfg["DATABASE_URL"], connect_timeout=10,
                                application_name="darkreach_fleet_simulator_verify")
    except psycopg2.Error as exc:
        print(f"fleet_simulator: cannot connect: {str(exc).strip()}", file=sys.stderr)
        return 1
    try:
        with conn.cursor() as cur:
            for table, query in checks.items():
                ids = state.get("ids", {}).get(table, [])
                cur.execute(query, (ids,))
                found = {r[0] for r in cur.fetchall()}
                missing = sorted(set(ids) - found)
                report["tables"][table] = {"acknowledged": len(ids), "found": len(found),
                                           "missing": len(missing), "missing_ids": missing[:20]}
                report["lost"] += len(missing)
            beats = state.get("heartbeat_ts", {})
            stale = []
            for wid, acked_ts in beats.items():
                cur.execute("SELECT last_heartbeat >= %s::timestamptz FROM public.workers "
                            "WHERE id = %s", (acked_ts, wid))
                row = cur.fetchone()
                if not row or not row[0]:
                    stale.append(wid)
            report["tables"]["workers_heartbeat"] = {
                "acknowledged": len(beats), "found": len(beats) - len(stale),
                "missing": len(stale), "missing_ids": stale[:20]}
            report["lost"] += len(stale)
    finally:
        conn.close()
    report["acknowledged"] = state.get("acknowledged", {})
    report["errors"] = state.get("errors", {})
    print(json.dumps(report, indent=2))
    return 1 if report["lost"] else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--env-file", default=os.environ.get("DARKREACH_ENV_FILE", DEFAULT_ENV_FILE))
    common.add_argument("--state-file", default=os.environ.get("SIM_STATE_FILE", DEFAULT_STATE_FILE))
    run_p = sub.add_parser("run", parents=[common], help="simulate the fleet (default)")
    run_p.add_argument("--nodes", type=int, default=int(os.environ.get("SIM_NODES", "4")))
    run_p.add_argument("--listen", default=os.environ.get("SIM_LISTEN", DEFAULT_LISTEN),
                       help=f"HOST:PORT for the JSON counters (default {DEFAULT_LISTEN})")
    run_p.add_argument("--id-prefix", default=os.environ.get("SIM_ID_PREFIX"),
                       help="worker id prefix (default sim-<hostname>)")
    run_p.add_argument("--heartbeat-interval", type=float, default=10.0)
    run_p.add_argument("--block-seconds", type=float, default=3.0,
                       help="average time a node works on a block")
    run_p.add_argument("--prime-probability", type=float, default=0.2)
    run_p.add_argument("--dashboard-interval", type=float, default=2.0)
    run_p.add_argument("--state-interval", type=float, default=2.0)
    run_p.add_argument("--duration", type=float, default=0, help="stop after N seconds (0: run)")
    run_p.add_argument("--seed", type=int, default=1)
    ver_p = sub.add_parser("verify", parents=[common],
                           help="check acknowledged writes against the database")
    ver_p.add_argument("--url", help="read the state from a running simulator (…/state)")
    ver_p.add_argument("--dsn", help="database to check (default DATABASE_URL of the env file)")
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["run", *argv]
    args = ap.parse_args(argv)
    cfg = load_config(args.env_file)
    psycopg2 = import_psycopg2()
    if args.command == "verify":
        return verify(cfg, args, psycopg2)
    if args.nodes < 1 or args.nodes > 1000:
        die(f"--nodes must be between 1 and 1000, got {args.nodes}")
    sim = Simulator(cfg, args, psycopg2)

    def on_signal(signum, _frame):
        sim.stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return sim.run()


if __name__ == "__main__":
    sys.exit(main())
