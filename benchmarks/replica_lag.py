"""Replay lag of a streaming replica under a pgbench write load on the primary: prints a table.

    .venv/bin/python benchmarks/replica_lag.py \\
        --primary "host=198.18.0.x user=postgres password=... dbname=postgres" \\
        --replica "host=198.18.0.y user=postgres password=... dbname=postgres" \\
        [--clients 4] [--seconds 30] [--scale 10]

Needs a primary and a streaming replica (the lab's pg1 and pg2 after playbooks/phase4.yml),
and pgbench on this machine (Debian's postgresql-client ships it; tools/bootstrap.py
installs it). Works in its own database ``bench_replica_lag`` on the primary, which the
replica receives like any other and which is dropped at the end (--keep keeps it); the
application's database is never touched.

Two measures, taken while pgbench -c N runs its TPC-B-like writes for --seconds:
  * replay_lag  - what the primary reports in pg_stat_replication.replay_lag for the replica
                  (sampled every 100 ms; null samples, when the replica is caught up and
                  idle, count as 0);
  * visibility  - the time from a committed probe row on the primary to the moment a
                  query on the replica sees it (polled every 2 ms; one probe every 200 ms):
                  what a dashboard reading from REPLICA_DATABASE_URL experiences.
It prints p50 / p99 / max in seconds of each, the pgbench TPS and the replica's name,
against the roadmap's goal (replica lag under 1 s).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

try:
    import psycopg2
    from psycopg2.extensions import make_dsn, parse_dsn
except ImportError:  # pragma: no cover
    sys.exit("needs psycopg2 (the collection's venv has it: .venv/bin/python)")

BENCH_DB = "bench_replica_lag"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def pgbench_path() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    for version in ("17", "16", "15"):
        path = f"/usr/lib/postgresql/{version}/bin/pgbench"
        if os.path.exists(path):
            return path
    sys.exit("pgbench not found (apt-get install postgresql-client)")


def pgbench(dsn: dict, *args: str, timeout: float) -> str:
    env = dict(os.environ)
    if dsn.get("password"):
        env["PGPASSWORD"] = dsn["password"]  # not on the command line
    cmd = [pgbench_path(), "-h", dsn["host"], "-p", str(dsn.get("port", 5432)),
           "-U", dsn.get("user", "postgres"), *args, BENCH_DB]
    res = subprocess.run(cmd, env=env, text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=timeout)
    if res.returncode != 0:
        sys.exit(f"pgbench failed:\n{res.stdout[-2000:]}")
    return res.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--primary", required=True, help="libpq DSN of the primary")
    ap.add_argument("--replica", required=True, help="libpq DSN of the replica")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    primary = parse_dsn(args.primary)
    replica = parse_dsn(args.replica)
    admin = psycopg2.connect(args.primary, connect_timeout=10)
    admin.autocommit = True
    cur = admin.cursor()
    cur.execute("SELECT pg_is_in_recovery()")
    if cur.fetchone()[0]:
        sys.exit("--primary is in recovery: it is not a primary")
    cur.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
    cur.execute(f"CREATE DATABASE {BENCH_DB}")
    bench_primary = make_dsn(args.primary, dbname=BENCH_DB)
    bench_replica = make_dsn(args.replica, dbname=BENCH_DB)
    try:
        pgbench(primary, "-i", "-q", "-s", str(args.scale), timeout=900)
        probe = psycopg2.connect(bench_primary)
        probe.autocommit = True
        probe.cursor().execute("CREATE TABLE lag_probe (id bigint PRIMARY KEY)")
        deadline = time.monotonic() + 120
        while True:  # the replica has the database and the table
            try:
                rconn = psycopg2.connect(bench_replica, connect_timeout=5)
                rconn.autocommit = True
                rconn.cursor().execute("SELECT 1 FROM lag_probe LIMIT 1")
                break
            except psycopg2.Error:
                if time.monotonic() > deadline:
                    sys.exit("the replica did not receive the benchmark database within 120 s")
                time.sleep(0.5)

        stop = threading.Event()
        replay: list[float] = []
        names: set[str] = set()

        def sample_replay() -> None:
            conn = psycopg2.connect(args.primary)
            conn.autocommit = True
            c = conn.cursor()
            while not stop.is_set():
                c.execute("SELECT application_name, coalesce(EXTRACT(EPOCH FROM replay_lag), 0)::float8 "
                          "FROM pg_stat_replication WHERE host(client_addr) = %s OR %s = ''",
                          (replica.get("host", ""), replica.get("host", "")))
                for name, lag in c.fetchall():
                    names.add(name)
                    replay.append(lag)
                time.sleep(0.1)
            conn.close()

        visible: list[float] = []

        def probes() -> None:
            pc, rc = probe.cursor(), rconn.cursor()
            n = 0
            while not stop.is_set():
                n += 1
                pc.execute("INSERT INTO lag_probe VALUES (%s)", (n,))
                committed = time.perf_counter()
                while True:
                    rc.execute("SELECT 1 FROM lag_probe WHERE id = %s", (n,))
                    if rc.fetchone():
                        visible.append(time.perf_counter() - committed)
                        break
                    if time.perf_counter() - committed > 60:
                        visible.append(float("inf"))
                        break
                    time.sleep(0.002)
                time.sleep(0.2)

        threads = [threading.Thread(target=sample_replay), threading.Thread(target=probes)]
        for t in threads:
            t.start()
        out = pgbench(primary, "-c", str(args.clients), "-j", str(min(args.clients, 2)),
                      "-T", str(args.seconds), "-n", timeout=args.seconds + 300)
        stop.set()
        for t in threads:
            t.join()
        tps = re.search(r"tps = ([\d.]+)", out)

        print(f"replica {', '.join(sorted(names)) or '?'} of {primary.get('host')}: "
              f"pgbench -c {args.clients} -T {args.seconds} (scale {args.scale}), "
              f"{float(tps.group(1)) if tps else float('nan'):.0f} TPS on the primary")
        print(f"{'measure':<12} {'samples':>8} {'p50 s':>9} {'p99 s':>9} {'max s':>9}  goal < 1 s")
        for label, values in (("replay_lag", replay), ("visibility", visible)):
            p99 = pct(values, 0.99)
            print(f"{label:<12} {len(values):>8} {pct(values, 0.5):>9.4f} {p99:>9.4f} "
                  f"{max(values) if values else float('nan'):>9.4f}  {'met' if p99 < 1 else 'NOT met'}")
        if statistics.mean(visible or [0]) == float("inf"):
            sys.exit("a probe row never arrived on the replica")
        rconn.close()
        probe.close()
    finally:
        if not args.keep:
            cur.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.close()


if __name__ == "__main__":
    main()
