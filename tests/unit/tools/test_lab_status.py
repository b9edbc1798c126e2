"""tools/lab.py status: the readers of Patroni's /cluster, the PgBouncer exporter's metrics,
Redis's INFO keyspace and key scan, the hypertable/aggregate document of the leader and
`pgbackrest info`. The inputs have the shape of outputs captured from the lab after
`make lab` (trimmed to the fields the readers use); a lagging and a stopped member, a
differential backup and an empty stanza are added to cover those cases."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tools"))
import lab  # noqa: E402

CLUSTER = {"members": [
    {"name": "pg2", "role": "replica", "state": "streaming", "host": "pg2", "port": 5432,
     "timeline": 2, "lag": 0},
    {"name": "pg1", "role": "leader", "state": "running", "host": "pg1", "port": 5432,
     "timeline": 2},
    {"name": "pg3", "role": "replica", "state": "streaming", "host": "pg3", "port": 5432,
     "timeline": 2, "lag": 8192},
    {"name": "pg4", "role": "replica", "state": "stopped", "host": "pg4", "port": 5432,
     "lag": "unknown"}], "scope": "dbfleet"}

BACKREST = [{"backup": [
    {"info": {"size": 41740702}, "label": "20261207-045735F",
     "timestamp": {"start": 1796619455, "stop": 1796619462}, "type": "full"},
    {"info": {"size": 2097152}, "label": "20261207-045735F_20261207-051000D",
     "timestamp": {"start": 1796620200, "stop": 1796620203}, "type": "diff"}],
    "name": "main", "status": {"code": 0, "message": "ok"}},
    {"backup": [], "name": "other"}]


def test_patroni_rows_leader_first_with_lag_of_replicas_only():
    rows = lab.patroni_rows(CLUSTER)
    assert rows == [
        ("pg1", "leader", "running", "2", ""),
        ("pg2", "replica", "streaming", "2", "0 B"),
        ("pg3", "replica", "streaming", "2", "8192 B"),
        ("pg4", "replica", "stopped", "", "unknown"),
    ]


def test_pool_rows_from_exporter_metrics():
    metrics = "\n".join([
        "# HELP pgbouncer_pools_client_active_connections Client connections linked to server",
        "# TYPE pgbouncer_pools_client_active_connections gauge",
        'pgbouncer_pools_client_active_connections{database="postgres",user="postgres"} 4',
        'pgbouncer_pools_client_active_connections{database="postgres_ro",user="postgres"} 1',
        'pgbouncer_pools_client_waiting_connections{database="postgres",user="postgres"} 0',
        'pgbouncer_pools_server_active_connections{database="postgres",user="postgres"} 2',
        'pgbouncer_pools_server_idle_connections{database="postgres",user="postgres"} 3',
        'pgbouncer_pools_server_login_connections{database="postgres",user="postgres"} 0',
        'pgbouncer_databases_pool_size{database="postgres",host="127.0.0.1"} 20',
        "pgbouncer_up 1",
    ])
    assert lab.pool_rows(metrics) == {
        ("postgres", "postgres"): {"cl_active": "4", "cl_waiting": "0", "sv_active": "2", "sv_idle": "3"},
        ("postgres_ro", "postgres"): {"cl_active": "1"},
    }


def test_last_backup_is_the_newest_per_stanza():
    lines = lab.last_backups(BACKREST)
    assert lines[0].startswith("stanza main: diff 20261207-045735F_20261207-051000D, finished 2026-12-07 ")
    assert lines[0].endswith("2 MiB, 2 backup(s) in the repository")
    assert lines[1] == "stanza other: no backup yet"


REDIS_INFO = ("# Keyspace\r\ndb0:keys=7,expires=6,avg_ttl=41250,subexpiry=0\r\n"
              "db15:keys=2,expires=0,avg_ttl=0,subexpiry=0\r\n")


def test_redis_keyspace_per_db():
    assert lab.redis_keyspace(REDIS_INFO) == {0: {"keys": 7, "expires": 6},
                                              15: {"keys": 2, "expires": 0}}
    assert lab.redis_keyspace("# Keyspace\r\n") == {}


def test_key_families_largest_first():
    keys = ["worker:sim-coordinator-001", "worker:sim-worker1-002", "worker:sim-worker1-002:cmd",
            "ratelimit:198.18.0.5", "stats:fleet", "worker:sim-coordinator-002", "lonely", ""]
    assert lab.key_prefix_counts(keys) == [("worker:*", 3), ("lonely", 1), ("ratelimit:*", 1),
                                           ("stats:*", 1), ("worker:*:cmd", 1)]


# The TS_QUERY document as the lab's pg1 answers it (Apache-licensed build: the aggregates
# are materialized views refreshed by pg_cron), plus a continuous aggregate under the
# Timescale licence whose policy has not run yet.
TS_DOC = {"hypertables": [
    {"name": "public.metric_samples", "chunks": 3, "compressed_chunks": 0, "bytes": 4_980_736,
     "compression": False},
    {"name": "public.system_logs", "chunks": 1, "compressed_chunks": 0, "bytes": 98_304,
     "compression": False}],
    "aggregates": [
    {"name": "public.metric_samples_hourly", "kind": "materialized view", "newest": "bucket_start",
     "refresh": {"method": "pg_cron", "schedule": "0 * * * *",
                 "last": "2026-12-07T09:00:01.52+00:00", "status": "succeeded"}},
    {"name": "public.metric_samples_daily", "kind": "materialized view", "newest": "bucket_start",
     "refresh": {"method": "pg_cron", "schedule": "0 0 * * *", "last": None, "status": None}},
    {"name": "public.fleet_15m", "kind": "continuous aggregate", "newest": "bucket",
     "refresh": {"method": "policy", "schedule": "00:15:00", "last": None, "status": None}},
    {"name": "dbfleet_dashboard.stats", "kind": "materialized view", "newest": None,
     "refresh": None}]}


def test_hypertable_rows_say_compression_per_licence():
    assert lab.hypertable_rows(TS_DOC, "apache") == [
        ("public.metric_samples", "3", "4.8 MB", "unavailable (Apache-licensed build)"),
        ("public.system_logs", "1", "96.0 kB", "unavailable (Apache-licensed build)")]
    doc = {"hypertables": [dict(TS_DOC["hypertables"][0], compression=True, compressed_chunks=2)]}
    assert lab.hypertable_rows(doc, "timescale")[0][3] == "on, 2/3 chunks compressed"


def test_aggregate_rows_refresh_and_newest_bucket():
    newest = {"public.metric_samples_hourly": "2026-12-07 08:00:00+00"}
    assert lab.aggregate_rows(TS_DOC, newest) == [
        ("public.metric_samples_hourly", "materialized view", "pg_cron '0 * * * *'",
         "2026-12-07 09:00 UTC", "2026-12-07 08:00 UTC"),
        ("public.metric_samples_daily", "materialized view", "pg_cron '0 0 * * *'", "not yet", ""),
        ("public.fleet_15m", "continuous aggregate", "policy every 00:15:00", "not yet", ""),
        ("dbfleet_dashboard.stats", "materialized view", "no schedule", "", "")]
    failed = {"aggregates": [dict(TS_DOC["aggregates"][0], refresh=dict(
        TS_DOC["aggregates"][0]["refresh"], status="failed"))]}
    assert lab.aggregate_rows(failed, {})[0][3] == "2026-12-07 09:00 UTC (last run: failed)"


def test_newest_query_quotes_and_skips_aggregates_without_a_time_column():
    q = lab.newest_query(TS_DOC["aggregates"])
    assert q.count("UNION ALL") == 2
    assert "max(\"bucket_start\")::text AS v FROM public.metric_samples_hourly" in q
    assert "dbfleet_dashboard.stats" not in q
    assert lab.newest_query([{"name": "public.o'brien", "newest": 'we"ird'}]) == (
        "SELECT json_object_agg(name, v) FROM (SELECT 'public.o''brien' AS name, "
        "max(\"we\"\"ird\")::text AS v FROM public.o'brien) AS s")
    assert lab.newest_query([]) == ""


def test_ts_query_reads_pg_cron_only_where_it_is():
    assert "cron.job" in lab.ts_query(True) and "cron.job" not in lab.ts_query(False)
