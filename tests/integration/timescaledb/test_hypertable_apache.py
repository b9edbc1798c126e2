"""darkreach.dbfleet.timescaledb_hypertable against PostgreSQL 17 + the Apache-licensed
TimescaleDB 2.19 (Debian 13) with pg_cron, in a container."""
from __future__ import annotations

import time

import pytest

from samples import connect, create_samples, fingerprint_sql, query

pytestmark = pytest.mark.containers
MODULE = "timescaledb_hypertable"


def is_hypertable(server, name):
    return query(server, "SELECT count(*) FROM timescaledb_information.hypertables "
                         "WHERE hypertable_name = %s", (name,))[0][0] == 1


def cron_jobs(server, name):
    return query(server, "SELECT jobid, jobname, schedule, command, database FROM cron.job "
                         "WHERE jobname LIKE %s", (f"%.{name}",), db="postgres")


@pytest.fixture
def samples(timescale_server, request):
    """A fresh populated metric_samples-shaped table per test, dropped afterwards."""
    name = "ms_" + request.node.name.split("[")[0].replace("test_", "")[:40]
    params = getattr(request, "param", {}) or {}
    conn = connect(timescale_server)
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {name} CASCADE")
        create_samples(cur, name, **params)
    conn.close()
    yield name
    conn = connect(timescale_server)
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {name} CASCADE")
    conn.close()
    for job in cron_jobs(timescale_server, name):
        query(timescale_server, "SELECT cron.unschedule(%s::bigint)", (job[0],), db="postgres")


def test_convert_identity_pk_keeps_every_row(timescale_server, samples, run_module):
    server, name = timescale_server, samples
    before = query(server, fingerprint_sql(name))[0]
    assert before[0] == 240
    args = {"table": name, "time_column": "sampled_at", "chunk_time_interval": "1 day",
            "compress_segment_by": ["scope", "metric"], "compress_after": "7 days",
            "retention": "90 days"}

    # check mode: the plan, nothing touched
    res = run_module(server, MODULE, args, check=True, diff=True)
    assert not res.get("failed"), res
    assert res["changed"] is True
    assert res["converted"] is True
    assert any("create_hypertable" in q for q in res["queries"])
    assert any("cron.schedule_in_database" in q for q in res["queries"])
    assert not is_hypertable(server, name)
    assert cron_jobs(server, name) == []
    assert query(server, "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                         "WHERE conname = %s", (f"{name}_pkey",))[0][0] == "PRIMARY KEY (id)"

    # the real run
    res = run_module(server, MODULE, args, diff=True)
    assert not res.get("failed"), res
    assert res["changed"] is True and res["converted"] is True
    assert res["license"] == "apache"
    assert res["constraints_changed"] == [f"{name}_pkey: (id) -> (id, sampled_at)"]
    assert res["chunk_time_interval"] == "1 day"
    assert res["compression"]["status"] == "unavailable"
    assert any("compression is unavailable" in n for n in res["notes"])
    assert any("compression is unavailable" in w for w in res.get("warnings", []))
    assert res["retention"]["method"] == "pg_cron"
    assert res["retention"]["drop_after"] == "90 days"
    assert res["diff"]["before"]["hypertable"] is False
    assert res["diff"]["after"]["hypertable"] is True
    assert is_hypertable(server, name)
    assert query(server, fingerprint_sql(name))[0] == before
    assert query(server, "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                         "WHERE conname = %s", (f"{name}_pkey",))[0][0] == \
        "PRIMARY KEY (id, sampled_at)"
    chunks = query(server, "SELECT count(*) FROM timescaledb_information.chunks "
                           "WHERE hypertable_name = %s", (name,))[0][0]
    assert chunks >= 10
    jobs = cron_jobs(server, name)
    assert len(jobs) == 1
    assert jobs[0][4] == server["db"]
    assert "drop_chunks" in jobs[0][3] and "90 days" in jobs[0][3]
    # the identity still works on the hypertable
    query(server, f"INSERT INTO {name} (sampled_at, scope, metric, value) "
                  "VALUES (now(), 'scope-x', 'cpu', 1)")

    # the second run changes nothing, and check mode agrees
    res = run_module(server, MODULE, args, diff=True)
    assert not res.get("failed"), res
    assert res["changed"] is False, res
    assert res["queries"] == []
    res = run_module(server, MODULE, args, check=True)
    assert res["changed"] is False and res["queries"] == []


def test_change_interval_and_retention_of_existing_hypertable(timescale_server, samples,
                                                              run_module):
    server, name = timescale_server, samples
    base = {"table": name, "time_column": "sampled_at", "chunk_time_interval": "1 day",
            "retention": "90 days"}
    assert run_module(server, MODULE, base)["changed"] is True

    changed = dict(base, chunk_time_interval="12 hours", retention="60 days",
                   retention_schedule="15 4 * * *")
    res = run_module(server, MODULE, changed, check=True)
    assert res["changed"] is True
    assert query(server, "SELECT time_interval::text FROM timescaledb_information.dimensions "
                         "WHERE hypertable_name = %s", (name,))[0][0] == "1 day"
    assert "90 days" in cron_jobs(server, name)[0][3]

    res = run_module(server, MODULE, changed, diff=True)
    assert not res.get("failed"), res
    assert res["changed"] is True
    assert any("set_chunk_time_interval" in q for q in res["queries"])
    assert any("cron.alter_job" in q for q in res["queries"])
    assert query(server, "SELECT time_interval::text FROM timescaledb_information.dimensions "
                         "WHERE hypertable_name = %s", (name,))[0][0] == "12:00:00"
    job = cron_jobs(server, name)
    assert len(job) == 1 and "60 days" in job[0][3] and job[0][2] == "15 4 * * *"
    assert run_module(server, MODULE, changed)["changed"] is False

    # the same interval written differently is not a change
    same = dict(changed, chunk_time_interval="720 minutes")
    assert run_module(server, MODULE, same)["changed"] is False

    res = run_module(server, MODULE, dict(base, retention="forever"))
    assert res["changed"] is True
    assert res["retention"]["method"] is None
    assert cron_jobs(server, name) == []


@pytest.mark.parametrize("samples", [{"days": 120, "step": "6 hours"}], indirect=True)
def test_apache_retention_job_drops_old_chunks(timescale_server, samples, run_module):
    """pg_cron runs the job (every 5 seconds here) and the chunks beyond 90 days go."""
    server, name = timescale_server, samples
    res = run_module(server, MODULE, {"table": name, "time_column": "sampled_at",
                                      "chunk_time_interval": "7 days", "retention": "90 days",
                                      "retention_schedule": "5 seconds"})
    assert not res.get("failed"), res
    jobid = res["retention"]["job_id"]
    assert jobid
    old = f"SELECT count(*) FROM {name} WHERE sampled_at < now() - interval '97 days'"
    assert query(server, old)[0][0] > 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if query(server, old)[0][0] == 0:
            break
        time.sleep(3)
    runs = query(server, "SELECT status, return_message FROM cron.job_run_details "
                         "WHERE jobid = %s ORDER BY runid", (jobid,), db="postgres")
    assert runs, "pg_cron never ran the retention job"
    assert query(server, old)[0][0] == 0, runs[-3:]
    assert "succeeded" in [r[0] for r in runs], runs[-3:]
    oldest = query(server, "SELECT min(range_start) > now() - interval '98 days' "
                           "FROM timescaledb_information.chunks WHERE hypertable_name = %s",
                   (name,))[0][0]
    assert oldest is True
    # recent data is kept
    assert query(server, f"SELECT count(*) FROM {name} WHERE sampled_at > now() - "
                         "interval '80 days'")[0][0] > 0


def test_compression_required_fails_under_apache(timescale_server, samples, run_module):
    server, name = timescale_server, samples
    res = run_module(server, MODULE, {"table": name, "time_column": "sampled_at",
                                      "compress_after": "7 days", "compression_required": True})
    assert res.get("failed") is True
    assert "compression is required but not available" in res["msg"]
    assert "apache" in res["msg"]
    assert not is_hypertable(server, name)


def test_constraints_keep_refuses_pk_without_time_column(timescale_server, samples, run_module):
    server, name = timescale_server, samples
    res = run_module(server, MODULE, {"table": name, "time_column": "sampled_at",
                                      "constraints": "keep"})
    assert res.get("failed") is True
    assert f"primary key {name}_pkey (id) does not include the time column sampled_at" in res["msg"]
    assert "constraints=keep" in res["msg"]
    assert not is_hypertable(server, name)
    assert query(server, "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                         "WHERE conname = %s", (f"{name}_pkey",))[0][0] == "PRIMARY KEY (id)"


BAD_INPUTS = {
    "missing_table": ({"table": "no_such_table"}, "does not exist"),
    "not_a_time_type": ({"time_column": "scope"}, "is of type text, not a time type"),
    "time_column_with_nulls": ({"time_column": "maybe_at"}, "holds NULL in 1 row(s)"),
    "interval_does_not_parse": ({"chunk_time_interval": "one fortnight"},
                                'chunk_time_interval: "one fortnight" is not a valid'),
    "retention_interval_does_not_parse": ({"retention": "90 dayz"},
                                          'retention: "90 dayz" is not a valid'),
    "natively_partitioned": ({"table": "{name}_parted"}, "already partitioned natively"),
    "retention_shorter_than_compression": ({"retention": "3 days", "compress_after": "7 days"},
                                           "retention 3 days is shorter than the compression "
                                           "delay compress_after 7 days"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_refused_nothing_changed(timescale_server, samples, run_module, case):
    server, name = timescale_server, samples
    conn = connect(server)
    with conn.cursor() as cur:
        cur.execute(f"ALTER TABLE {name} ADD COLUMN maybe_at timestamptz")
        cur.execute(f"UPDATE {name} SET maybe_at = sampled_at WHERE id > 1")
        cur.execute(f"DROP TABLE IF EXISTS {name}_parted")
        cur.execute(f"CREATE TABLE {name}_parted (sampled_at timestamptz NOT NULL, v int) "
                    "PARTITION BY RANGE (sampled_at)")
    conn.close()
    override, expected = BAD_INPUTS[case]
    args = {"table": name, "time_column": "sampled_at", "retention": "30 days"}
    args.update({k: v.format(name=name) if isinstance(v, str) else v
                 for k, v in override.items()})
    fp = query(server, fingerprint_sql(name))[0]
    for check in (True, False):
        res = run_module(server, MODULE, args, check=check)
        assert res.get("failed") is True, res
        assert expected in res["msg"], res["msg"]
        assert res.get("changed") is False
    assert not is_hypertable(server, name)
    assert not is_hypertable(server, f"{name}_parted")
    assert cron_jobs(server, name) == []
    assert query(server, fingerprint_sql(name))[0] == fp
    query(server, f"DROP TABLE {name}_parted")
