"""cutover_verify against a real PostgreSQL 17: two databases, one a copy of the other
(CREATE DATABASE ... TEMPLATE), then targeted changes on the copy."""
from __future__ import annotations

import time

import psycopg2
import pytest

from helpers.ansible import run_module

SCHEMA = """
CREATE TABLE primes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                     form text NOT NULL CHECK (form <> ''), digits int NOT NULL,
                     found_at timestamptz NOT NULL DEFAULT now(), meta jsonb);
CREATE INDEX primes_form_idx ON primes (form);
CREATE TABLE workers (id text PRIMARY KEY, last_seen timestamptz);
INSERT INTO primes (form, digits, meta)
  SELECT CASE WHEN g % 3 = 0 THEN 'factorial' ELSE 'kbn' END, 10 + g % 500,
         jsonb_build_object('k', g) FROM generate_series(1, 5000) g;
INSERT INTO workers SELECT 'w' || g, now() FROM generate_series(1, 20) g;
CREATE FUNCTION get_stats() RETURNS TABLE(form text, n bigint) LANGUAGE sql STABLE
  AS $$ SELECT form, count(*) FROM primes GROUP BY form $$;
CREATE VIEW prime_forms AS SELECT form, max(digits) AS largest FROM primes GROUP BY form;
ALTER TABLE primes ENABLE ROW LEVEL SECURITY;
CREATE POLICY primes_read ON primes FOR SELECT TO PUBLIC USING (digits > 0);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN NEW.last_seen := now(); RETURN NEW; END $$;
CREATE TRIGGER workers_touch BEFORE UPDATE ON workers FOR EACH ROW EXECUTE FUNCTION touch();
"""


def admin(server, db="postgres"):
    conn = psycopg2.connect(host=server["host"], port=server["port"], user=server["user"],
                            password=server["password"], dbname=db, sslmode="disable")
    conn.autocommit = True
    return conn


@pytest.fixture(scope="module")
def pair(timescale_server):
    conn = admin(timescale_server)
    with conn.cursor() as cur:
        for db in ("verify_src", "verify_dst"):
            cur.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        cur.execute("CREATE DATABASE verify_src")
    with admin(timescale_server, "verify_src") as src, src.cursor() as cur:
        cur.execute(SCHEMA)
    src.close()
    yield timescale_server
    with conn.cursor() as cur:
        for db in ("verify_src", "verify_dst"):
            cur.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    conn.close()


@pytest.fixture
def target(pair):
    """A fresh exact copy of the source for each test."""
    conn = admin(pair)
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS verify_dst WITH (FORCE)")
        # the previous run's backends may still be exiting; a template must be unused
        # (terminating is asynchronous: under load a backend can outlive the call)
        for attempt in range(60):
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = 'verify_src' AND pid <> pg_backend_pid()")
            try:
                cur.execute("CREATE DATABASE verify_dst TEMPLATE verify_src")
                break
            except psycopg2.errors.ObjectInUse:
                if attempt == 59:
                    raise
                time.sleep(0.5)
    conn.close()
    dst = admin(pair, "verify_dst")
    yield dst
    dst.close()


def verify(server, tmp_path, check=False, **extra):
    params = {"login_host": server["host"], "login_port": server["port"],
              "login_user": server["user"], "login_password": server["password"],
              "login_db": "verify_dst", "ssl_mode": "disable",
              "source": {"login_host": server["host"], "login_port": server["port"],
                         "login_user": server["user"], "login_password": server["password"],
                         "login_db": "verify_src", "ssl_mode": "disable"}}
    params.update(extra)
    return run_module("cutover_verify", params, tmp_path, check=check)


def test_identical_copy(pair, target, tmp_path):
    res = verify(pair, tmp_path)
    assert not res.get("failed"), res.get("msg")
    assert res["identical"] is True and res["changed"] is False
    assert res["rows"] == 5020
    assert res["tables"]["public.primes"] == {"source_rows": 5000, "target_rows": 5000,
                                              "checksum_match": True}
    assert res["objects"]["policy"] == 1 and res["objects"]["trigger"] == 1
    assert res["objects"]["function"] == 2 and res["objects"]["view"] == 1
    # read-only: check mode gives the same answer
    assert verify(pair, tmp_path, check=True)["identical"] is True


def test_one_altered_row_names_its_table(pair, target, tmp_path):
    with target.cursor() as cur:
        cur.execute("UPDATE primes SET digits = digits + 1 WHERE id = 4242")
    res = verify(pair, tmp_path)
    assert res.get("failed")
    assert "table public.primes (checksum)" in res["msg"]
    assert [d["name"] for d in res["differences"]] == ["public.primes"]
    assert res["tables"]["public.primes"]["checksum_match"] is False
    assert res["tables"]["public.workers"]["checksum_match"] is True


def test_missing_policy_sequence_and_row_count(pair, target, tmp_path):
    with target.cursor() as cur:
        cur.execute("DROP POLICY primes_read ON primes")
        cur.execute("DELETE FROM workers WHERE id = 'w7'")
        cur.execute("SELECT setval('primes_id_seq', 9000)")
    res = verify(pair, tmp_path, fail_on_difference=False)
    assert not res.get("failed")
    found = {(d["kind"], d["name"], d["problem"]) for d in res["differences"]}
    assert ("policy", "public.primes.primes_read", "missing_on_target") in found
    assert ("table", "public.workers", "row_count") in found
    assert ("sequence", "public.primes_id_seq", "value") in found


def test_expected_differences_do_not_fail(pair, target, tmp_path):
    with target.cursor() as cur:
        cur.execute("CREATE OR REPLACE VIEW prime_forms AS SELECT form, min(digits) AS largest "
                    "FROM primes GROUP BY form")
    res = verify(pair, tmp_path, expected_differences=["view:public.prime_forms"])
    assert not res.get("failed"), res.get("msg")
    assert res["identical"] is False
    assert res["differences"][0]["expected"] is True


def test_unreachable_source_is_a_clear_error(pair, target, tmp_path):
    res = verify(pair, tmp_path, source={"login_host": pair["host"], "login_port": 5999,
                                         "login_password": "x", "login_db": "verify_src",
                                         "connect_timeout": 5})
    assert res.get("failed")
    assert "unable to connect to source database verify_src" in res["msg"]


def test_unsafe_schema_is_refused(pair, target, tmp_path):
    res = verify(pair, tmp_path, schemas=["public; DROP TABLE primes"])
    assert res.get("failed") and "not a safe identifier" in res["msg"]
