"""The Timescale-licence paths of both modules, against PGlite with the
Timescale-licensed TimescaleDB build (LAB.md): compression settings and policy,
retention policy, continuous aggregate and refresh policy, changes on a re-run.
Background workers do not run there, so each policy runs by CALL run_job(id)."""
from __future__ import annotations

from samples import AGGREGATE_QUERY, ROLLUP_SQL, connect, create_samples, query

HYPERTABLE = "timescaledb_hypertable"
AGGREGATE = "timescaledb_continuous_aggregate"
COLUMNS = "bucket, scope, metric, labels, sample_count, value_sum, value_min, value_max"


def run_job(server, job_id):
    conn = connect(server)
    try:
        with conn.cursor() as cur:
            cur.execute("CALL run_job(%s)", (job_id,))
    finally:
        conn.close()


def jobs(server, name, proc):
    return query(server, "SELECT job_id, config FROM timescaledb_information.jobs "
                         "WHERE proc_name = %s AND hypertable_name = %s", (proc, name))


def chunk_stats(server, name):
    return query(server, "SELECT count(*), count(*) FILTER (WHERE is_compressed), "
                         "count(*) FILTER (WHERE range_end < now() - interval '31 days') "
                         "FROM timescaledb_information.chunks WHERE hypertable_name = %s",
                 (name,))[0]


def make_table(server, name, days):
    conn = connect(server)
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {name} CASCADE")
        create_samples(cur, name, days=days, step="2 hours")
    conn.close()


def test_compression_and_retention_policies(tsl_server, run_module):
    server, name = tsl_server, "tsl_samples"
    make_table(server, name, days=45)
    rows = query(server, f"SELECT count(*) FROM {name}")[0][0]
    args = {"table": name, "time_column": "sampled_at", "chunk_time_interval": "1 day",
            "compress_segment_by": ["scope", "metric"], "compress_order_by": ["sampled_at desc"],
            "compress_after": "7 days", "retention": "30 days"}

    res = run_module(server, HYPERTABLE, args, check=True)
    assert not res.get("failed"), res
    assert res["changed"] is True and res["license"] == "timescale"
    assert query(server, "SELECT count(*) FROM timescaledb_information.hypertables "
                         "WHERE hypertable_name = %s", (name,))[0][0] == 0

    res = run_module(server, HYPERTABLE, args, diff=True)
    assert not res.get("failed"), res
    assert res["changed"] is True and res["converted"] is True
    assert res["constraints_changed"] == [f"{name}_pkey: (id) -> (id, sampled_at)"]
    assert res["compression"] == {"status": "enabled", "enabled": True,
                                  "segment_by": ["scope", "metric"],
                                  "order_by": ["sampled_at DESC"], "compress_after": "7 days"}
    assert res["retention"]["method"] == "policy"
    assert res["retention"]["drop_after"] == "30 days"
    assert res["notes"] == []
    assert query(server, f"SELECT count(*) FROM {name}")[0][0] == rows

    res = run_module(server, HYPERTABLE, args)
    assert res["changed"] is False and res["queries"] == [], res

    # retention policy: CALL run_job drops the chunks older than 30 days
    (ret_id, ret_cfg), = jobs(server, name, "policy_retention")
    assert ret_cfg["drop_after"] == "30 days"
    total, _compressed, old = chunk_stats(server, name)
    assert old > 0
    run_job(server, ret_id)
    total_after, _compressed, old_after = chunk_stats(server, name)
    assert old_after == 0 and total_after < total
    rows_kept = query(server, f"SELECT count(*) FROM {name}")[0][0]
    assert 0 < rows_kept < rows

    # compression policy: CALL run_job compresses the chunks older than 7 days
    (comp_id, comp_cfg), = jobs(server, name, "policy_compression")
    assert comp_cfg["compress_after"] == "7 days"
    run_job(server, comp_id)
    total, compressed, _old = chunk_stats(server, name)
    assert compressed >= 20 and compressed < total
    assert query(server, f"SELECT count(*) FROM {name}")[0][0] == rows_kept

    # a re-run with other settings changes them (and only once)
    changed = dict(args, compress_segment_by=["scope"], compress_after="10 days",
                   retention="20 days", chunk_time_interval="12 hours")
    res = run_module(server, HYPERTABLE, changed, diff=True)
    assert not res.get("failed"), res
    assert res["changed"] is True
    assert res["compression"]["segment_by"] == ["scope"]
    assert res["compression"]["compress_after"] == "10 days"
    assert res["retention"]["drop_after"] == "20 days"
    assert res["diff"]["before"]["retention"]["drop_after"] == "30 days"
    assert jobs(server, name, "policy_retention")[0][1]["drop_after"] == "20 days"
    assert jobs(server, name, "policy_compression")[0][1]["compress_after"] == "10 days"
    assert query(server, "SELECT segmentby FROM timescaledb_information."
                         "hypertable_compression_settings WHERE hypertable = %s::regclass",
                 (name,))[0][0] == "scope"
    assert run_module(server, HYPERTABLE, changed)["changed"] is False

    run_job(server, jobs(server, name, "policy_retention")[0][0])
    assert query(server, "SELECT count(*) FROM timescaledb_information.chunks WHERE "
                         "hypertable_name = %s AND range_end < now() - interval '21 days'",
                 (name,))[0][0] == 0

    # retention shorter than the (existing) compression delay is refused
    res = run_module(server, HYPERTABLE, dict(changed, retention="5 days"))
    assert res.get("failed") is True and "shorter than the compression delay" in res["msg"]

    # removing retention
    res = run_module(server, HYPERTABLE, dict(changed, retention="forever"))
    assert res["changed"] is True and jobs(server, name, "policy_retention") == []
    query(server, f"DROP TABLE {name} CASCADE")


def test_continuous_aggregate_and_refresh_policy(tsl_server, run_module):
    server, name = tsl_server, "tsl_agg_samples"
    view = f"{name}_hourly"
    make_table(server, name, days=15)
    res = run_module(server, HYPERTABLE, {"table": name, "time_column": "sampled_at",
                                          "chunk_time_interval": "1 day"})
    assert res["changed"] is True, res
    args = {"name": view, "query": AGGREGATE_QUERY.format(unit="hour", name=name),
            "with_data": False,
            "refresh_policy": {"start_offset": "10 days", "end_offset": "1 hour",
                               "schedule_interval": "1 hour"}}

    res = run_module(server, AGGREGATE, args, check=True)
    assert res["changed"] is True and not res.get("failed"), res
    assert query(server, "SELECT count(*) FROM pg_class WHERE relname = %s", (view,))[0][0] == 0

    res = run_module(server, AGGREGATE, args, diff=True)
    assert not res.get("failed"), res
    assert res["changed"] is True
    assert res["kind"] == "continuous_aggregate"
    assert res["refresh"]["method"] == "policy"
    assert res["notes"] == []
    assert query(server, f"SELECT count(*) FROM {view}")[0][0] == 0
    assert run_module(server, AGGREGATE, args)["changed"] is False

    # the policy's window is what CALL run_job materializes
    job_id = res["refresh"]["job_id"]
    run_job(server, job_id)
    window = ("bucket >= date_trunc('hour', now()) - interval '9 days' AND "
              "bucket < date_trunc('hour', now()) - interval '2 hours'")
    agg = query(server, f"SELECT {COLUMNS} FROM {view} WHERE {window} ORDER BY 1, 2, 3, 4::text")
    rollup = query(server, f"SELECT {COLUMNS} FROM ({ROLLUP_SQL.format(unit='hour', name=name)})"
                           f" r WHERE {window} ORDER BY 1, 2, 3, 4::text")
    assert len(agg) > 100 and agg == rollup
    assert query(server, f"SELECT count(*) FROM {view} WHERE bucket < now() - "
                         "interval '11 days'")[0][0] == 0

    # a re-run with another window replaces the policy; the next run of it widens the data
    wider = dict(args, refresh_policy=dict(args["refresh_policy"], start_offset=None))
    res = run_module(server, AGGREGATE, wider, diff=True)
    assert res["changed"] is True, res
    assert res["refresh"]["start_offset"] is None
    assert res["diff"]["before"]["refresh"]["start_offset"] == "10 days"
    assert run_module(server, AGGREGATE, wider)["changed"] is False
    run_job(server, res["refresh"]["job_id"])
    everything = "bucket < date_trunc('hour', now()) - interval '2 hours'"
    agg = query(server, f"SELECT {COLUMNS} FROM {view} WHERE {everything} ORDER BY 1, 2, 3, 4::text")
    rollup = query(server, f"SELECT {COLUMNS} FROM ({ROLLUP_SQL.format(unit='hour', name=name)})"
                           f" r WHERE {everything} ORDER BY 1, 2, 3, 4::text")
    assert agg == rollup

    res = run_module(server, AGGREGATE, dict(args, refresh_policy={"enabled": False}))
    assert res["changed"] is True and res["refresh"]["method"] is None
    res = run_module(server, AGGREGATE, {"name": view, "state": "absent"})
    assert res["changed"] is True
    query(server, f"DROP TABLE {name} CASCADE")
