"""Dashboard queries on a plain table, a hypertable and an hourly aggregate: prints a table.

    .venv/bin/python benchmarks/timescale_queries.py "host=198.18.x.y user=postgres password=... dbname=postgres" \
        [--nodes 50 --nodes 1000] [--metrics 2] [--interval "15 minutes"] [--days 30] [--runs 40]

Needs a PostgreSQL with the timescaledb extension available (the lab's pg1 after
playbooks/phase3.yml). Works in its own schema ``bench_ts``, dropped at the end (--keep
keeps it); never touches the application's tables.

For each node count it loads ``days`` of samples (``metrics`` metrics per node, one
sample per ``interval``; every row in the same shape as the application's
metric_samples) into
  * plain   - an ordinary table with the application's index (scope, metric, ts DESC),
  * hyper   - a hypertable with 1-day chunks and the same index,
  * agg     - an hourly aggregate (count, sum, min, max per scope, metric, labels): a
              continuous aggregate under the Timescale License, a materialized view with
              a unique index under the Apache-licensed build (what Debian ships),
then times two dashboard queries for a random node each run:
  * "last hour"     - one metric of one node over the last hour,
  * "30-day hourly" - one metric of one node, hourly buckets over 30 days,
and prints p50/p95 in milliseconds (client-side, including the fetch) and the ratio of
the plain table's p50 to each source's p50.

Scale: the roadmap's fleet reports every few seconds; this machine (2 cores) cannot hold
30 days of that for 1,000 nodes, so the default is one sample per 15 minutes per metric,
2 metrics: 50 nodes = 288,000 rows, 1,000 nodes = 5,760,000 rows. The per-query row
counts scale with the interval; the printed header states what was loaded.

Measured on the lab's pg1 (2 cores shared with other test runs, PostgreSQL 17.12,
TimescaleDB 2.19.3 Apache build, so the aggregate is a materialized view), p50 / p95 ms
of the 30-day hourly query:
  50 nodes, 15-min samples (288k rows):   plain 4.4 / 6.5, hyper 4.7 / 8.0, agg 2.1 / 3.7
  1,000 nodes, 15-min (5.76M rows):       plain 2.5 / 3.7, hyper 3.8 / 6.1, agg 2.6 / 6.4
  50 nodes, 1-min samples (4.32M rows):   plain 117 / 233, hyper 44 / 64, agg 2.4 / 3.8 (49x)
The goal (under 50 ms from the aggregate) holds in every case; the aggregate's gain grows
with the samples per bucket, which the sparse default keeps small.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

try:
    import psycopg2
except ImportError:  # pragma: no cover
    sys.exit("needs psycopg2 (the collection's venv has it: .venv/bin/python)")

SCHEMA = "bench_ts"
METRICS = ["cpu.load", "mem.used", "disk.io", "net.rx", "net.tx", "primes.found"]


def node_name(i: int) -> str:
    return f"node-{i:04d}"


def execute(cur, sql: str, args=None) -> float:
    start = time.perf_counter()
    cur.execute(sql, args)
    return time.perf_counter() - start


def load(conn, nodes: int, metrics: int, interval: str, days: int, license_: str) -> dict:
    cur = conn.cursor()
    timings = {}
    cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    cur.execute(f"CREATE SCHEMA {SCHEMA}")
    cur.execute(f"""
        CREATE TABLE {SCHEMA}.plain (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          ts timestamptz NOT NULL, scope text NOT NULL, metric text NOT NULL,
          labels jsonb NOT NULL DEFAULT '{{}}'::jsonb, value double precision NOT NULL)""")
    timings["plain load s"] = execute(cur, f"""
        INSERT INTO {SCHEMA}.plain (ts, scope, metric, labels, value)
        SELECT g, 'node-' || lpad(n::text, 4, '0'), m, '{{}}'::jsonb,
               50 + 40 * sin(extract(epoch FROM g) / 3600.0 + n) + random()
          FROM generate_series(date_trunc('hour', now()) - %s::interval,
                               date_trunc('hour', now()), %s::interval) AS g,
               generate_series(1, %s) AS n,
               unnest(%s::text[]) AS m""", (f"{days} days", interval, nodes, METRICS[:metrics]))
    timings["plain index s"] = execute(
        cur, f"CREATE INDEX ON {SCHEMA}.plain (scope, metric, ts DESC)")

    cur.execute(f"""
        CREATE TABLE {SCHEMA}.hyper (
          ts timestamptz NOT NULL, scope text NOT NULL, metric text NOT NULL,
          labels jsonb NOT NULL DEFAULT '{{}}'::jsonb, value double precision NOT NULL)""")
    cur.execute(f"SELECT create_hypertable('{SCHEMA}.hyper', 'ts', "
                "chunk_time_interval => INTERVAL '1 day', create_default_indexes => false)")
    cur.execute(f"CREATE INDEX ON {SCHEMA}.hyper (scope, metric, ts DESC)")
    timings["hyper load s"] = execute(cur, f"""
        INSERT INTO {SCHEMA}.hyper (ts, scope, metric, labels, value)
        SELECT ts, scope, metric, labels, value FROM {SCHEMA}.plain""")

    query = (f"SELECT time_bucket(INTERVAL '1 hour', ts) AS bucket_start, scope, metric, labels, "
             f"count(*) AS count, sum(value) AS sum, min(value) AS min, max(value) AS max "
             f"FROM {SCHEMA}.hyper GROUP BY 1, 2, 3, 4")
    if license_ == "timescale":
        conn.commit()
        conn.autocommit = True  # a continuous aggregate cannot be created in a transaction
        timings["agg build s"] = execute(
            cur, f"CREATE MATERIALIZED VIEW {SCHEMA}.agg WITH (timescaledb.continuous) AS "
                 f"{query} WITH DATA")
        conn.autocommit = False
        kind = "continuous aggregate"
    else:
        timings["agg build s"] = execute(cur, f"CREATE MATERIALIZED VIEW {SCHEMA}.agg AS {query}")
        cur.execute(f"CREATE UNIQUE INDEX ON {SCHEMA}.agg (bucket_start, scope, metric, labels)")
        kind = "materialized view"
    cur.execute(f"CREATE INDEX ON {SCHEMA}.agg (scope, metric, bucket_start DESC)")
    conn.commit()
    conn.autocommit = True
    for rel in ("plain", "hyper", "agg"):
        cur.execute(f"VACUUM ANALYZE {SCHEMA}.{rel}")
    conn.autocommit = False
    cur.execute(f"SELECT count(*) FROM {SCHEMA}.plain")
    rows = cur.fetchone()[0]
    cur.execute(f"SELECT count(*) FROM show_chunks('{SCHEMA}.hyper')")
    chunks = cur.fetchone()[0]
    conn.commit()
    return {"rows": rows, "chunks": chunks, "agg_kind": kind, **timings}


QUERIES = {
    "last hour": {
        "plain": f"SELECT ts, value FROM {SCHEMA}.plain WHERE scope = %(scope)s AND metric = %(metric)s "
                 f"AND ts > %(ref)s - INTERVAL '1 hour' ORDER BY ts",
        "hyper": f"SELECT ts, value FROM {SCHEMA}.hyper WHERE scope = %(scope)s AND metric = %(metric)s "
                 f"AND ts > %(ref)s - INTERVAL '1 hour' ORDER BY ts",
        "agg": f"SELECT bucket_start, sum / count, min, max FROM {SCHEMA}.agg "
               f"WHERE scope = %(scope)s AND metric = %(metric)s "
               f"AND bucket_start >= %(ref)s - INTERVAL '1 hour' ORDER BY bucket_start",
    },
    "30-day hourly": {
        "plain": f"SELECT time_bucket(INTERVAL '1 hour', ts), count(*), sum(value), min(value), max(value) "
                 f"FROM {SCHEMA}.plain WHERE scope = %(scope)s AND metric = %(metric)s "
                 f"AND ts >= %(ref)s - INTERVAL '30 days' GROUP BY 1 ORDER BY 1",
        "hyper": f"SELECT time_bucket(INTERVAL '1 hour', ts), count(*), sum(value), min(value), max(value) "
                 f"FROM {SCHEMA}.hyper WHERE scope = %(scope)s AND metric = %(metric)s "
                 f"AND ts >= %(ref)s - INTERVAL '30 days' GROUP BY 1 ORDER BY 1",
        "agg": f"SELECT bucket_start, count, sum, min, max FROM {SCHEMA}.agg "
               f"WHERE scope = %(scope)s AND metric = %(metric)s "
               f"AND bucket_start >= %(ref)s - INTERVAL '30 days' ORDER BY 1",
    },
}


def time_queries(conn, nodes: int, metrics: int, runs: int, seed: int) -> dict:
    cur = conn.cursor()
    cur.execute("SELECT date_trunc('hour', now())")
    ref = cur.fetchone()[0]
    results = {}
    for qname, sources in QUERIES.items():
        for source, sql in sources.items():
            rng = random.Random(seed)
            samples, nrows = [], 0
            for i in range(runs + 3):
                args = {"scope": node_name(rng.randint(1, nodes)),
                        "metric": METRICS[rng.randrange(metrics)], "ref": ref}
                start = time.perf_counter()
                cur.execute(sql, args)
                nrows = len(cur.fetchall())
                elapsed = (time.perf_counter() - start) * 1000
                if i >= 3:  # the first runs warm the cache
                    samples.append(elapsed)
            conn.commit()
            q = statistics.quantiles(samples, n=100, method="inclusive")
            results[(qname, source)] = {"p50": q[49], "p95": q[94], "rows": nrows}
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("dsn")
    ap.add_argument("--nodes", type=int, action="append", help="node counts (default 50 and 1000)")
    ap.add_argument("--metrics", type=int, default=2, help="metrics per node (1-6, default 2)")
    ap.add_argument("--interval", default="15 minutes", help="sample interval (default 15 minutes)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--runs", type=int, default=40, help="timed runs per query and source")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep", action="store_true", help=f"keep schema {SCHEMA} afterwards")
    args = ap.parse_args()
    if not 1 <= args.metrics <= len(METRICS):
        ap.error(f"--metrics must be between 1 and {len(METRICS)}")
    node_counts = args.nodes or [50, 1000]

    conn = psycopg2.connect(args.dsn)
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    version = cur.fetchone()[0]
    cur.execute("SELECT current_setting('timescaledb.license'), current_setting('server_version')")
    license_, server = cur.fetchone()
    conn.commit()
    print(f"PostgreSQL {server}, TimescaleDB {version} ({license_} licence)")
    print(f"scale: {args.metrics} metric(s) per node, one sample per {args.interval}, {args.days} days; "
          f"client-side latency over {args.runs} runs, random node per run\n")

    goal_met = True
    try:
        for nodes in node_counts:
            info = load(conn, nodes, args.metrics, args.interval, args.days, license_)
            print(f"== {nodes} nodes: {info['rows']:,} rows, {info['chunks']} chunks, aggregate is a "
                  f"{info['agg_kind']}; load plain {info['plain load s']:.1f} s "
                  f"(+ index {info['plain index s']:.1f} s), hypertable {info['hyper load s']:.1f} s, "
                  f"aggregate {info['agg build s']:.1f} s")
            res = time_queries(conn, nodes, args.metrics, args.runs, args.seed)
            print(f"{'query':15} {'source':7} {'rows':>6} {'p50 ms':>9} {'p95 ms':>9} {'plain/this p50':>15}")
            for qname in QUERIES:
                base = res[(qname, "plain")]["p50"]
                for source in ("plain", "hyper", "agg"):
                    r = res[(qname, source)]
                    print(f"{qname:15} {source:7} {r['rows']:>6} {r['p50']:>9.2f} {r['p95']:>9.2f} "
                          f"{base / r['p50']:>14.1f}x")
            agg30 = res[("30-day hourly", "agg")]
            ok = agg30["p95"] < 50
            goal_met &= ok
            print(f"goal: 30-day hourly from the aggregate under 50 ms: "
                  f"{'met' if ok else 'NOT met'} (p95 {agg30['p95']:.2f} ms)\n")
    finally:
        if not args.keep:
            conn.rollback()
            cur = conn.cursor()
            cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            conn.commit()
        conn.close()
    return 0 if goal_met else 1


if __name__ == "__main__":
    sys.exit(main())
