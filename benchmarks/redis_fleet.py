#!/usr/bin/env python3
"""Redis fleet benchmark: heartbeat SET EX throughput and fleet-status read latency.

    REDIS_PASSWORD=lab-redis-admin-password \\
    .venv/bin/python benchmarks/redis_fleet.py --host 198.18.0.2 --user dbfleet-admin \\
        [--nodes 50 --nodes 1000] [--reads 200] [--db 15]

For each fleet size N it writes N heartbeat keys `worker:{id}` (SET .. EX 60, one request
per node as a node does, plus a pending-command key for every tenth node), then runs the
fleet-status read — the redis_fleet_status module's own SCAN walk over worker:* —
`--reads` times and prints p50/p95. It also prints the heartbeat write rate PostgreSQL
carries with heartbeats in PostgreSQL (N / interval, one upsert per heartbeat) against in
Redis (none: the node registers once).

With --pg-dsn and REDIS_WORKER_URL (the workers' REDIS_URL) it also measures that rate:
the lab fleet simulator (roles/lab_fleet_simulator) runs --sim-nodes nodes for
--sim-seconds twice, heartbeats in PostgreSQL and then in Redis, and the table shows the
heartbeat writes PostgreSQL acknowledged per second (the simulator still registers each
node once in PostgreSQL; those registrations are shown separately). Its other writes
(work blocks, metric samples) are the same in both runs and land in that database.

Bounded: at most N * 3 writes per size and --reads reads; keys are written to --db
(default 15, not the fleet's database 0) and deleted at the end. Only loopback and the
lab's 198.18.0.0/15 addresses are accepted as --host.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import time
from pathlib import Path

import subprocess
import tempfile

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / ".cache" / "collections"))
from ansible_collections.darkreach.dbfleet.plugins.modules.redis_fleet_status import (  # noqa: E402
    scan_keys, scan_pattern, worker_ids)

SIMULATOR = ROOT / "roles" / "lab_fleet_simulator" / "files" / "fleet_simulator.py"
ALLOWED = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("198.18.0.0/15")]


def check_host(host: str) -> None:
    addr = ipaddress.ip_address(host)
    if not any(addr in net for net in ALLOWED):
        raise SystemExit(f"redis_fleet: {host} is outside loopback and 198.18.0.0/15")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run_size(client: redis.Redis, nodes: int, reads: int, interval: float, count: int) -> dict:
    keys = []
    payload = json.dumps({"cores": 8, "load": 0.5, "version": "bench", "ts": time.time()})
    t0 = time.perf_counter()
    for i in range(nodes):                       # one round trip per heartbeat, like a node
        client.set(f"worker:{i}", payload, ex=60)
        keys.append(f"worker:{i}")
    set_s = time.perf_counter() - t0
    for i in range(0, nodes, 10):
        client.set(f"worker:{i}:cmd", "noop", ex=60)
        keys.append(f"worker:{i}:cmd")
    latencies = []
    calls = 0
    for _ in range(reads):
        t = time.perf_counter()
        found, calls = scan_keys(client, scan_pattern("worker:"), count)
        ids = worker_ids(found, "worker:")
        latencies.append((time.perf_counter() - t) * 1000.0)
        if len(ids) != nodes:
            raise SystemExit(f"redis_fleet: expected {nodes} workers, read {len(ids)} "
                             "(is the database in use? pick another --db)")
    client.delete(*keys)
    return dict(nodes=nodes, set_per_s=nodes / set_s, need_per_s=nodes / interval,
                p50=pct(latencies, 0.50), p95=pct(latencies, 0.95), calls=calls,
                pg_hb_per_s=nodes / interval)


def simulate(pg_dsn: str, redis_url: str | None, nodes: int, seconds: float,
             extra_env: dict | None = None) -> dict:
    """Run the fleet simulator for ``seconds``; return its final state. ``extra_env``: more
    keys of its env file (e.g. DB_MAX_CONNECTIONS)."""
    with tempfile.TemporaryDirectory() as tmp:
        env_file = Path(tmp) / "env"
        lines = [f"DATABASE_URL='{pg_dsn}'"] + ([f"REDIS_URL='{redis_url}'"] if redis_url else [])
        lines += [f"{k}='{v}'" for k, v in (extra_env or {}).items()]
        env_file.write_text("\n".join(lines) + "\n")
        state = Path(tmp) / "state.json"
        mode = "redis" if redis_url else "pg"
        subprocess.run([sys.executable, str(SIMULATOR), "run", "--env-file", str(env_file),
                        "--state-file", str(state), "--nodes", str(nodes),
                        "--listen", "127.0.0.1:0", "--id-prefix", f"bench-{mode}-{os.getpid()}-",
                        "--duration", str(seconds)],
                       check=True, timeout=seconds + 120, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
        return json.loads(state.read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=6379)
    ap.add_argument("--user", default="dbfleet-admin")
    ap.add_argument("--db", type=int, default=15)
    ap.add_argument("--nodes", type=int, action="append", help="fleet sizes (default 50 100 1000)")
    ap.add_argument("--reads", type=int, default=200, help="fleet-status reads per size")
    ap.add_argument("--interval", type=float, default=10.0, help="heartbeat interval, s")
    ap.add_argument("--scan-count", type=int, default=1000)
    ap.add_argument("--pg-dsn", help="PostgreSQL URL for the simulator runs (lab stand-in only)")
    ap.add_argument("--sim-nodes", type=int, default=50)
    ap.add_argument("--sim-seconds", type=float, default=45.0)
    args = ap.parse_args()
    check_host(args.host)
    sizes = args.nodes or [50, 100, 1000]
    if max(sizes) > 100000 or args.reads > 10000:
        raise SystemExit("redis_fleet: bounded to 100,000 nodes and 10,000 reads")
    client = redis.Redis(host=args.host, port=args.port, username=args.user,
                         password=os.environ.get("REDIS_PASSWORD"), db=args.db,
                         decode_responses=True, socket_timeout=30)
    if client.dbsize():
        raise SystemExit(f"redis_fleet: database {args.db} is not empty; pick another --db")
    print(f"Redis {args.host}:{args.port} db {args.db}, heartbeat every {args.interval:g} s, "
          f"{args.reads} fleet-status reads per size (SCAN COUNT {args.scan_count})")
    print(f"{'nodes':>6} {'SET EX/s':>10} {'needed/s':>9} {'status p50 ms':>14} "
          f"{'p95 ms':>8} {'SCANs':>6} {'PG hb writes/s: in PG':>22} {'in Redis':>9}")
    for n in sizes:
        r = run_size(client, n, args.reads, args.interval, args.scan_count)
        print(f"{r['nodes']:>6} {r['set_per_s']:>10,.0f} {r['need_per_s']:>9.1f} "
              f"{r['p50']:>14.2f} {r['p95']:>8.2f} {r['calls']:>6} {r['pg_hb_per_s']:>22.1f} "
              f"{0.0:>9.1f}")
    client.close()
    if args.pg_dsn:
        worker_url = os.environ.get("REDIS_WORKER_URL")
        if not worker_url:
            raise SystemExit("redis_fleet: --pg-dsn needs REDIS_WORKER_URL (the workers' REDIS_URL)")
        from urllib.parse import urlparse
        check_host(urlparse(args.pg_dsn).hostname or "")
        check_host(urlparse(worker_url).hostname or "")
        if args.sim_seconds > 600 or args.sim_nodes > 1000:
            raise SystemExit("redis_fleet: simulator runs are bounded to 600 s and 1,000 nodes")
        print(f"\nfleet simulator, {args.sim_nodes} nodes, {args.sim_seconds:g} s per run")
        print(f"{'heartbeats in':>14} {'PG hb writes':>13} {'PG hb writes/s':>15} "
              f"{'PG registrations':>17} {'Redis heartbeats/s':>19} {'all PG writes/s':>16}")
        for url in (None, worker_url):
            st = simulate(args.pg_dsn, url, args.sim_nodes, args.sim_seconds)
            ack, secs = st["acknowledged"], st["elapsed_s"]
            in_pg = 0 if url else ack.get("heartbeat", 0)
            regs = ack.get("heartbeat", 0) if url else 0
            all_pg = sum(v for k, v in ack.items() if k != "heartbeat_redis") / secs
            print(f"{'Redis' if url else 'PostgreSQL':>14} {in_pg:>13} {in_pg / secs:>15.2f} "
                  f"{regs:>17} {ack.get('heartbeat_redis', 0) / secs:>19.2f} {all_pg:>16.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
