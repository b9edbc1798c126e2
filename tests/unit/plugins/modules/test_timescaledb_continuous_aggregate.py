"""Pure logic of the timescaledb_continuous_aggregate module."""
from __future__ import annotations

import pytest

from ansible_collections.darkreach.dbfleet.plugins.modules import (
    timescaledb_continuous_aggregate as m,
)


def test_query_hash_ignores_whitespace_and_semicolons():
    a = "SELECT time_bucket('1 hour', ts) AS bucket, count(*)\n  FROM t GROUP BY 1;"
    b = "  SELECT time_bucket('1 hour', ts) AS bucket,   count(*) FROM t\tGROUP BY 1 "
    assert m.query_hash(a) == m.query_hash(b)
    assert m.query_hash(a) != m.query_hash(a.replace("count(*)", "sum(v)"))


def test_marker_comment_round_trip():
    comment = m.marker_comment("SELECT 1")
    assert m.hash_from_comment(comment) == m.query_hash("SELECT 1")
    assert m.hash_from_comment(None) is None
    assert m.hash_from_comment("made by hand") is None


@pytest.mark.parametrize("seconds, cron", [
    (10, "10 seconds"),
    (60, "* * * * *"),
    (900, "*/15 * * * *"),
    (3600, "0 * * * *"),
    (6 * 3600, "0 */6 * * *"),
    (86400, "0 0 * * *"),
    (7 * 60, None),
    (5 * 3600, None),
    (2 * 86400, None),
    (0, None),
    (1.5, None),
])
def test_cron_from_interval(seconds, cron):
    assert m.cron_from_interval(seconds) == cron


def test_names_fit_postgres_limits():
    assert m.refresh_job_name("darkreach", "public", "metric_rollups_hourly") == \
        "dbfleet_refresh:darkreach.public.metric_rollups_hourly"
    assert len(m.unique_index_name("x" * 63)) <= 63
    assert m.unique_index_name("metric_rollups_hourly") == "metric_rollups_hourly_unique_key"
