"""The darkreach metric_samples shape and deterministic sample data for the tests."""
from __future__ import annotations

import psycopg2

# bigint identity primary key without the time column: the shape TimescaleDB refuses as is.
CREATE_SAMPLES = """
CREATE TABLE {name} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sampled_at timestamptz NOT NULL,
    scope text NOT NULL,
    metric text NOT NULL,
    labels jsonb NOT NULL DEFAULT '{{}}',
    value double precision NOT NULL
)"""

# Every `step` over `days` days back from a fixed hour today, for 3 scopes x 2 metrics
# x 2 label sets; values are a deterministic function of the row.
INSERT_SAMPLES = """
INSERT INTO {name} (sampled_at, scope, metric, labels, value)
SELECT date_trunc('hour', now()) - g * interval '{step}',
       'scope-' || (g % 3), CASE WHEN g % 2 = 0 THEN 'cpu' ELSE 'mem' END,
       jsonb_build_object('node', 'n' || (g % 2)),
       ((g * 37) % 101) / 4.0
FROM generate_series(0, (extract(epoch FROM interval '{days} days') / extract(epoch FROM interval '{step}'))::int - 1) g"""

# The application's rollup SQL (metric_rollups_hourly): count, sum, min, max per bucket,
# scope, metric, labels.
ROLLUP_SQL = """
SELECT date_trunc('{unit}', sampled_at) AS bucket, scope, metric, labels,
       count(*) AS sample_count, sum(value) AS value_sum, min(value) AS value_min,
       max(value) AS value_max
FROM {name} GROUP BY 1, 2, 3, 4"""

AGGREGATE_QUERY = """
SELECT time_bucket(INTERVAL '1 {unit}', sampled_at) AS bucket, scope, metric, labels,
       count(*) AS sample_count, sum(value) AS value_sum, min(value) AS value_min,
       max(value) AS value_max
FROM {name} GROUP BY 1, 2, 3, 4"""


def create_samples(cur, name, days=10, step="1 hour"):
    cur.execute(CREATE_SAMPLES.format(name=name))
    cur.execute(INSERT_SAMPLES.format(name=name, days=days, step=step))


def fingerprint_sql(name):
    """Row count and a checksum over every column: equal before and after conversion
    means every row was kept."""
    return (f"SELECT count(*), sum(id), md5(string_agg(concat_ws('|', id, sampled_at, scope, "
            f"metric, labels, value), ',' ORDER BY id)) FROM {name}")


def connect(server, db=None, autocommit=True):
    conn = psycopg2.connect(host=server["host"], port=server["port"], user=server["user"],
                            password=server["password"], dbname=db or server["db"],
                            sslmode="disable", connect_timeout=30)
    conn.autocommit = autocommit
    return conn


def query(server, sql, params=None, db=None):
    """Run one statement on its own connection (PGlite takes one at a time)."""
    conn = connect(server, db=db)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()
