"""darkreach.dbfleet.timescaledb_continuous_aggregate against the Apache-licensed
TimescaleDB 2.19 with pg_cron: a materialized view with a unique index, refreshed
concurrently by pg_cron, answering the same numbers as the application's rollup SQL."""
from __future__ import annotations

import time

import pytest

from samples import AGGREGATE_QUERY, ROLLUP_SQL, connect, create_samples, query

pytestmark = pytest.mark.containers
MODULE = "timescaledb_continuous_aggregate"
HYPERTABLE = "timescaledb_hypertable"
COLUMNS = "bucket, scope, metric, labels, sample_count, value_sum, value_min, value_max"


@pytest.fixture
def hyper(timescale_server, run_module, request):
    """A populated hypertable (converted by our module) and a name for its aggregate."""
    name = "agg_" + request.node.name.split("[")[0].replace("test_", "")[:30]
    conn = connect(timescale_server)
    with conn.cursor() as cur:
        cur.execute(f"DROP MATERIALIZED VIEW IF EXISTS {name}_hourly")
        cur.execute(f"DROP TABLE IF EXISTS {name} CASCADE")
        create_samples(cur, name, days=5, step="7 minutes")
    conn.close()
    res = run_module(timescale_server, HYPERTABLE, {"table": name, "time_column": "sampled_at",
                                                    "chunk_time_interval": "1 day"})
    assert res["changed"] and not res.get("failed"), res
    yield name
    for job in query(timescale_server, "SELECT jobid FROM cron.job WHERE jobname LIKE %s",
                     (f"%.{name}_hourly",), db="postgres"):
        query(timescale_server, "SELECT cron.unschedule(%s::bigint)", (job[0],), db="postgres")
    query(timescale_server, f"DROP TABLE IF EXISTS {name} CASCADE")


def same_numbers(server, name, view):
    """(rows of rollup SQL) == (rows of the aggregate), compared in full."""
    rollup = query(server, f"SELECT {COLUMNS} FROM ({ROLLUP_SQL.format(unit='hour', name=name)})"
                           f" r ORDER BY 1, 2, 3, 4::text")
    agg = query(server, f"SELECT {COLUMNS} FROM {view} ORDER BY 1, 2, 3, 4::text")
    return rollup, agg


def test_aggregate_as_materialized_view_refreshed_by_pg_cron(timescale_server, hyper, run_module):
    server, name = timescale_server, hyper
    view = f"{name}_hourly"
    args = {"name": view, "query": AGGREGATE_QUERY.format(unit="hour", name=name),
            "unique_key": ["bucket", "scope", "metric", "labels"],
            "refresh_policy": {"start_offset": "3 days", "end_offset": "1 hour",
                               "schedule_interval": "10 seconds"}}

    res = run_module(server, MODULE, args, check=True)
    assert not res.get("failed"), res
    assert res["changed"] is True
    assert any(q.startswith("CREATE MATERIALIZED VIEW") for q in res["queries"])
    assert query(server, "SELECT count(*) FROM pg_class WHERE relname = %s", (view,))[0][0] == 0

    res = run_module(server, MODULE, args, diff=True)
    assert not res.get("failed"), res
    assert res["changed"] is True
    assert res["kind"] == "materialized_view"
    assert res["license"] == "apache"
    assert res["unique_key"] == ["bucket", "scope", "metric", "labels"]
    assert res["refresh"]["method"] == "pg_cron"
    assert res["refresh"]["cron_schedule"] == "10 seconds"
    assert "CONCURRENTLY" in res["refresh"]["command"]
    assert any("materialized view" in n for n in res["notes"])
    assert any("pg_cron" in n and "window 3 days .. 01:00:00" in n for n in res["notes"])

    rollup, agg = same_numbers(server, name, view)
    assert len(rollup) > 100
    assert agg == rollup

    # the second run changes nothing
    res = run_module(server, MODULE, args)
    assert res["changed"] is False, res
    assert res["queries"] == []

    # new rows show up after pg_cron's concurrent refresh
    query(server, f"INSERT INTO {name} (sampled_at, scope, metric, labels, value) "
                  "SELECT date_trunc('hour', now()) - interval '2 hours' + g * interval '1 minute', "
                  "'scope-new', 'cpu', '{}', g FROM generate_series(1, 30) g")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if query(server, f"SELECT count(*) FROM {view} WHERE scope = 'scope-new'")[0][0] > 0:
            break
        time.sleep(3)
    runs = query(server, "SELECT status, return_message FROM cron.job_run_details d "
                         "JOIN cron.job j USING (jobid) WHERE j.jobname LIKE %s ORDER BY runid",
                 (f"%.{view}",), db="postgres")
    assert "succeeded" in [r[0] for r in runs], runs[-3:]
    rollup, agg = same_numbers(server, name, view)
    assert agg == rollup

    # changing the schedule alters the job; a different query needs recreate
    res = run_module(server, MODULE, dict(args, refresh_policy=dict(args["refresh_policy"],
                                                                    schedule_interval="1 hour")))
    assert res["changed"] is True and res["refresh"]["cron_schedule"] == "0 * * * *"
    other = dict(args, query=AGGREGATE_QUERY.format(unit="hour", name=name).replace(
        "max(value) AS value_max", "max(value) AS value_max, avg(value) AS value_avg"))
    res = run_module(server, MODULE, other)
    assert res.get("failed") is True and "different query" in res["msg"]
    res = run_module(server, MODULE, dict(other, recreate=True))
    assert not res.get("failed"), res
    assert res["changed"] is True
    assert query(server, f"SELECT count(*) FROM {view} WHERE value_avg IS NOT NULL")[0][0] > 0

    # absent drops view and job
    res = run_module(server, MODULE, {"name": view, "state": "absent"})
    assert res["changed"] is True
    assert query(server, "SELECT count(*) FROM pg_class WHERE relname = %s", (view,))[0][0] == 0
    assert query(server, "SELECT count(*) FROM cron.job WHERE jobname LIKE %s", (f"%.{view}",),
                 db="postgres")[0][0] == 0
    assert run_module(server, MODULE, {"name": view, "state": "absent"})["changed"] is False


@pytest.mark.parametrize("override, expected", [
    ({"unique_key": None}, "unique_key is required"),
    ({"query": "SELECT nonsense FROM nowhere"}, "query does not compile"),
    ({"refresh_policy": {"start_offset": "1 hour", "end_offset": "2 hours"}},
     "refresh window is empty"),
    ({"refresh_policy": {"end_offset": "soon"}}, 'refresh_policy.end_offset: "soon"'),
    ({"refresh_policy": {"schedule_interval": "7 minutes"}}, "cannot be written as a pg_cron"),
    ({"unique_key": ["bucket; DROP TABLE x"]}, "is not a safe identifier"),
])
def test_aggregate_bad_input(timescale_server, hyper, run_module, override, expected):
    server, name = timescale_server, hyper
    args = {"name": f"{name}_hourly", "query": AGGREGATE_QUERY.format(unit="hour", name=name),
            "unique_key": ["bucket", "scope", "metric", "labels"],
            "refresh_policy": {"start_offset": "3 days"}}
    args.update(override)
    args = {k: v for k, v in args.items() if v is not None}
    res = run_module(server, MODULE, args)
    assert res.get("failed") is True, res
    assert expected in res["msg"], res["msg"]
    assert query(server, "SELECT count(*) FROM pg_class WHERE relname = %s",
                 (f"{name}_hourly",))[0][0] == 0
