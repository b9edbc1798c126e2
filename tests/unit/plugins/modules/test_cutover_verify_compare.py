"""Pure comparison logic of cutover_verify (the catalog reads are tested for real in
tests/integration/cutover)."""
from __future__ import annotations

from ansible_collections.darkreach.dbfleet.plugins.modules.cutover_verify import (
    compare, is_expected, normalise)


def test_normalise_ignores_line_wrapping():
    assert normalise(" SELECT a,\n    b\n  FROM t") == normalise("SELECT a, b FROM t")


def test_identical_fingerprints_have_no_differences():
    src = {"view": {"public.v": "SELECT 1"}, "sequence": {"public.s": "5"}}
    tables = {"public.t": (3, "123")}
    diffs, summary = compare(src, dict(src), tables, dict(tables), set())
    assert diffs == []
    assert summary == {"public.t": {"source_rows": 3, "target_rows": 3, "checksum_match": True}}


def test_each_kind_of_difference_is_named():
    src = {"view": {"public.v": "SELECT 1", "public.gone": "SELECT 2"}, "sequence": {"public.s": "5"}}
    dst = {"view": {"public.v": "SELECT 9", "public.new": "SELECT 3"}, "sequence": {"public.s": "4"}}
    src_t = {"public.a": (3, "1"), "public.b": (3, "1"), "public.c": (1, "1")}
    dst_t = {"public.a": (2, "1"), "public.b": (3, "2")}
    diffs, _ = compare(src, dst, src_t, dst_t, {"table:public.c"})
    got = {(d["kind"], d["name"], d["problem"], d["expected"]) for d in diffs}
    assert got == {
        ("view", "public.v", "definition", False),
        ("view", "public.gone", "missing_on_target", False),
        ("view", "public.new", "missing_on_source", False),
        ("sequence", "public.s", "value", False),
        ("table", "public.a", "row_count", False),
        ("table", "public.b", "checksum", False),
        ("table", "public.c", "missing_on_target", True),
    }


def test_expected_matches_kind_qualified_or_bare_names():
    assert is_expected("table", "public.t", {"public.t"})
    assert is_expected("table", "public.t", {"table:public.t"})
    assert not is_expected("view", "public.t", {"table:public.t"})


def test_client_env_carries_the_same_connection_as_psycopg2():
    from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_cutover import client_env
    env = client_env({"login_host": "db.example", "login_port": 5432, "login_user": "postgres",
                      "login_password": "pw", "login_db": "", "ssl_mode": "require",
                      "ca_cert": None, "connect_timeout": 30, "login_unix_socket": ""},
                     database="postgres")
    assert env == {"PGHOST": "db.example", "PGPORT": "5432", "PGUSER": "postgres",
                   "PGPASSWORD": "pw", "PGDATABASE": "postgres", "PGSSLMODE": "require",
                   "PGCONNECT_TIMEOUT": "30", "PGAPPNAME": "dbfleet-cutover"}
