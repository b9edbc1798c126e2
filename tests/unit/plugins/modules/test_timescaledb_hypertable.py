"""Pure logic of the timescaledb_hypertable module: plans, parsing, validation."""
from __future__ import annotations

import pytest

from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    DbfleetPostgresError,
)
from ansible_collections.darkreach.dbfleet.plugins.modules import timescaledb_hypertable as m


@pytest.mark.parametrize("text, parsed, formatted", [
    ("ts", ("ts", True, False), "ts"),
    ("ts DESC", ("ts", False, True), "ts DESC"),
    ("ts desc nulls last", ("ts", False, False), "ts DESC NULLS LAST"),
    ("id asc nulls first", ("id", True, True), "id NULLS FIRST"),
    ("  sampled_at   Desc ", ("sampled_at", False, True), "sampled_at DESC"),
])
def test_order_by_parse_and_format(text, parsed, formatted):
    assert m.parse_order_by(text) == parsed
    assert m.format_order_by(parsed) == formatted


@pytest.mark.parametrize("text", ["ts sideways", "lower(ts)", "ts; drop table x", ""])
def test_order_by_refuses_other_text(text):
    with pytest.raises(DbfleetPostgresError, match="compress_order_by"):
        m.parse_order_by(text)


def test_compression_settings_from_rows_orders_by_index():
    rows = [("id", None, 2, True, False), ("metric", 2, None, None, None),
            ("ts", None, 1, False, True), ("scope", 1, None, None, None)]
    seg, order = m.compression_settings_from_rows(rows)
    assert seg == ["scope", "metric"]
    assert order == [("ts", False, True), ("id", True, False)]


PK = dict(name="ms_pkey", type="p", columns=["id"], referenced_by=[])
UQ = dict(name="ms_key", type="u", columns=["scope", "sampled_at"], referenced_by=[])


def test_constraint_plan_extends_pk_without_time_column():
    plan = m.constraint_plan([PK, UQ], "sampled_at", "extend")
    assert plan == [("ms_pkey", "p", ["id"], ["id", "sampled_at"])]


def test_constraint_plan_keep_fails_naming_the_constraint():
    with pytest.raises(DbfleetPostgresError) as err:
        m.constraint_plan([PK], "sampled_at", "keep")
    assert "primary key ms_pkey (id) does not include the time column sampled_at" in str(err.value)
    assert m.constraint_plan([UQ], "sampled_at", "keep") == []


def test_constraint_plan_refuses_when_referenced_by_foreign_key():
    pk = dict(PK, referenced_by=["fk_x on other"])
    with pytest.raises(DbfleetPostgresError, match="fk_x on other"):
        m.constraint_plan([pk], "sampled_at", "extend")


def test_retention_shorter_than_compression():
    m.check_retention_vs_compression(90 * 86400, 7 * 86400, "90 days", "7 days")
    m.check_retention_vs_compression(None, 7 * 86400, None, "7 days")
    with pytest.raises(DbfleetPostgresError, match="retention 3 days is shorter"):
        m.check_retention_vs_compression(3 * 86400, 7 * 86400, "3 days", "7 days")


@pytest.mark.parametrize("params, expected", [
    ({}, None),
    ({"compression": False, "compress_after": "7 days"}, False),
    ({"compress_after": "7 days"}, True),
    ({"compress_after": "none"}, None),
    ({"compress_segment_by": ["scope"]}, True),
    ({"compression": True}, True),
])
def test_desired_compression(params, expected):
    full = dict(compression=None, compress_segment_by=None, compress_order_by=None,
                compress_after=None)
    full.update(params)
    assert m.desired_compression(full) is expected


def test_retention_job_name_is_per_database_and_table():
    assert m.retention_job_name("darkreach", "public", "metric_samples") == \
        "dbfleet_retention:darkreach.public.metric_samples"


def test_comparable_ignores_job_ids():
    a = dict(hypertable=True, retention=dict(drop_after="30 days", method="policy", job_id=1000))
    b = dict(hypertable=True, retention=dict(drop_after="30 days", method="policy", job_id=1001))
    assert m.comparable(a) == m.comparable(b)
