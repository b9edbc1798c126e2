"""dbfleet_partition: the option checks and the installed SQL (pure logic). The bounds
themselves are computed by the PL/pgSQL functions in the database (one implementation,
shared by the module and the scheduled job); tests/integration/phases/test_phase1.py
checks them against the Supabase stand-in."""
from __future__ import annotations

import pytest

from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_partition import (
    check_spans, maintenance_sql,
)
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import DbfleetPostgresError

DAY = 86400
WEEK = 7 * DAY


def test_a_week_kept_thirty_days_is_fine():
    assert check_spans("7 days", WEEK, 0, "30 days", 30 * DAY, 0, 4)


def test_retention_of_exactly_one_partition_is_allowed():
    assert check_spans("7 days", WEEK, 0, "7 days", WEEK, 0, 1)


def test_a_month_retention_counts_thirty_days():
    assert check_spans("7 days", WEEK, 0, "1 mon", 0, 1, 4)


def test_no_retention_keeps_everything():
    assert check_spans("1 day", DAY, 0, None, None, 0, 4)


@pytest.mark.parametrize("args, message", [
    (("1 mon", 0, 1), "has a month or year part"),
    (("00:30:00", 1800, 0), "shorter than one hour"),
    (("01:30:00", 5400, 0), "not a whole number of hours"),
    (("7 days", WEEK, 0, "3 days", 3 * DAY, 0), 'retention "3 days" is shorter than one partition ("7 days")'),
    (("7 days", WEEK, 0, None, None, 0, 0), "premake must be between 1 and 520"),
    (("7 days", WEEK, 0, None, None, 0, True), "premake must be between 1 and 520"),
])
def test_settings_that_cannot_work_are_refused(args, message):
    with pytest.raises(DbfleetPostgresError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_spans(*args)


def test_the_sql_uses_one_origin_utc_and_the_schema_given():
    fns = {name: (body, create) for _kind, name, body, create in maintenance_sql("dbfleet")}
    assert set(fns) == {"partition_bounds", "partition_name", "partition_list", "partition_maintain",
                        "partition_maintain_all"}
    assert "timestamptz '2000-01-03 00:00:00+00'" in fns["partition_bounds"][0]  # a Monday
    for body, create in fns.values():
        assert "SET TimeZone = 'UTC'" in create
        assert create.endswith("$dbfleet$" + body + "$dbfleet$")
        assert "@S@" not in body
    assert '"dbfleet".partition_config' in fns["partition_maintain"][0]
    assert "'YYYYMMDD' ELSE 'YYYYMMDD\"_\"HH24MI'" in fns["partition_name"][0]
    assert maintenance_sql("dbfleet") == maintenance_sql("dbfleet")  # compared with prosrc on rerun
