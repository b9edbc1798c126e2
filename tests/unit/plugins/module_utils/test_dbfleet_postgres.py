"""Pure logic of plugins/module_utils/dbfleet_postgres.py (no database)."""
from __future__ import annotations

import pytest

from ansible_collections.darkreach.dbfleet.plugins.module_utils import dbfleet_postgres as pg


def test_common_argument_spec_hides_password():
    spec = pg.postgres_common_argument_spec()
    assert spec["login_password"]["no_log"] is True
    assert set(spec) >= {"login_host", "login_port", "login_user", "login_password",
                         "login_unix_socket", "login_db", "ssl_mode", "ca_cert"}
    assert spec["ssl_mode"]["default"] == "prefer"


def test_connection_params_maps_options():
    params = dict(login_host="198.18.2.5", login_port=5433, login_user="u", login_password="p",
                  login_unix_socket="", login_db="tsdb", ssl_mode="verify-full",
                  ca_cert="/etc/ca.pem", connect_timeout=5)
    kw = pg.connection_params(params)
    assert kw == dict(host="198.18.2.5", port=5433, user="u", password="p", dbname="tsdb",
                      sslmode="verify-full", sslrootcert="/etc/ca.pem", connect_timeout=5,
                      application_name="dbfleet")
    assert pg.connection_params(params, database="postgres")["dbname"] == "postgres"


def test_connection_params_unix_socket_when_no_host():
    kw = pg.connection_params(dict(login_host="", login_unix_socket="/run/postgresql",
                                   login_password=""))
    assert kw["host"] == "/run/postgresql"
    assert "password" not in kw


@pytest.mark.parametrize("name", ["metric_samples", "_x", "a1$", "A" * 63])
def test_validate_identifier_accepts(name):
    assert pg.validate_identifier(name) == name


@pytest.mark.parametrize("name, fragment", [
    ("", "non-empty"),
    ("1abc", "not a safe identifier"),
    ('x"; DROP TABLE y; --', "not a safe identifier"),
    ("with space", "not a safe identifier"),
    ("a" * 64, "longer than 63 bytes"),
])
def test_validate_identifier_refuses_and_names_it(name, fragment):
    with pytest.raises(pg.DbfleetPostgresError) as err:
        pg.validate_identifier(name, "table")
    assert fragment in str(err.value)
    if name:
        assert name in str(err.value)


def test_split_qualified_name():
    assert pg.split_qualified_name("metric_samples") == ("public", "metric_samples")
    assert pg.split_qualified_name("ops.system_logs") == ("ops", "system_logs")
    with pytest.raises(pg.DbfleetPostgresError, match="more than one dot"):
        pg.split_qualified_name("a.b.c")
    with pytest.raises(pg.DbfleetPostgresError, match="not a safe identifier"):
        pg.split_qualified_name("ops.bad-name")


def test_identifiers_are_quoted_by_psycopg():
    composed = pg.ident("public", "Metric Samples")
    assert isinstance(composed, pg.sql.Identifier)
    assert composed.strings == ("public", "Metric Samples")
