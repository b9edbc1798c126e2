"""The Supabase stand-in (lab_supabase role) on PostgreSQL 17 (trixie) and 15
(bookworm): platform objects, RLS with auth.uid(), migrations, data, pooler,
idempotence and check mode. Real PostgreSQL in containers, reached from the host."""
from __future__ import annotations

import json
import subprocess
import sys

import psycopg2
import pytest

from helpers.standin import (ADMIN_PW, AUTHENTICATOR_PW, POSTGRES_PW, SUPABASE_PLAY, connect, recap,
                      run_playbook)
from helpers.containers import ROOT

pytestmark = pytest.mark.containers

DATAGEN = ROOT / "roles" / "lab_supabase" / "files" / "darkreach_datagen.py"
MIGRATIONS = sorted((ROOT / "roles" / "lab_supabase" / "files" / "migrations").glob("*.sql"))


def q(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else []


def test_server_version_matches_suite(standin):
    with standin.connect() as conn:
        assert q(conn, "SHOW server_version_num")[0][0].startswith(str(standin.major))


def test_roles_are_supabase_shaped(standin):
    with standin.connect() as conn:
        roles = {r[0]: r[1:] for r in q(conn, "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, "
                                               "rolreplication, rolbypassrls, rolcanlogin, rolinherit "
                                               "FROM pg_roles")}
        boot = q(conn, "SELECT rolname FROM pg_roles WHERE oid = 10")[0][0]
        members = {r[0] for r in q(conn, "SELECT r.rolname FROM pg_auth_members m "
                                         "JOIN pg_roles r ON r.oid = m.roleid "
                                         "JOIN pg_roles u ON u.oid = m.member "
                                         "WHERE u.rolname = 'authenticator'")}
        search_path = q(conn, "SHOW search_path")[0][0]
    assert boot == "supabase_admin" and roles["supabase_admin"][0] is True
    # postgres: not superuser; CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS, LOGIN
    assert roles["postgres"][:6] == (False, True, True, True, True, True)
    for api in ("anon", "authenticated", "service_role"):
        assert roles[api][5] is False and roles[api][6] is False  # NOLOGIN NOINHERIT
    assert roles["service_role"][4] is True
    assert roles["authenticator"][5:] == (True, False)            # LOGIN NOINHERIT
    assert members >= {"anon", "authenticated", "service_role"}
    for name in ("dashboard_user", "pgbouncer", "supabase_auth_admin", "supabase_storage_admin",
                 "supabase_functions_admin", "supabase_read_only_user",
                 "supabase_replication_admin"):
        assert name in roles
    assert search_path == '"$user", public, extensions'


def test_platform_schemas_extensions_publication_event_triggers(standin):
    with standin.connect() as conn:
        schemas = {r[0] for r in q(conn, "SELECT nspname FROM pg_namespace")}
        ext = dict(q(conn, "SELECT e.extname, n.nspname FROM pg_extension e "
                           "JOIN pg_namespace n ON n.oid = e.extnamespace"))
        evt = dict(q(conn, "SELECT evtname, evtowner::regrole::text FROM pg_event_trigger"))
        pub = {r[0] for r in q(conn, "SELECT tablename FROM pg_publication_tables "
                                     "WHERE pubname = 'supabase_realtime'")}
        defacl = q(conn, "SELECT count(*) FROM pg_default_acl d JOIN pg_namespace n "
                         "ON n.oid = d.defaclnamespace WHERE n.nspname = 'public' "
                         "AND d.defaclacl::text LIKE '%%anon=%%' "
                         "AND d.defaclacl::text LIKE '%%authenticated=%%' "
                         "AND d.defaclacl::text LIKE '%%service_role=%%'")[0][0]
        funcs = {r[0]: r[1:] for r in q(conn, "SELECT p.proname, p.provolatile, l.lanname "
                                              "FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
                                              "WHERE p.pronamespace = 'auth'::regnamespace")}
        # unqualified pgcrypto through postgres' search_path
        token = q(conn, "SELECT length(encode(gen_random_bytes(8), 'hex')), gen_random_uuid()")[0]
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            q(conn, "SELECT * FROM vault.secrets")
    assert {"auth", "storage", "realtime", "extensions", "graphql", "graphql_public", "vault",
            "pgbouncer", "supabase_migrations"} <= schemas
    for name in ("pgcrypto", "uuid-ossp", "pg_stat_statements"):
        assert ext[name] == "extensions"
    assert set(evt) >= {"issue_graphql_placeholder", "issue_pg_cron_access",
                        "issue_pg_graphql_access", "issue_pg_net_access", "pgrst_ddl_watch",
                        "pgrst_drop_watch"}
    assert set(evt.values()) == {"supabase_admin"}
    assert {"primes", "workers", "search_jobs", "agent_tasks"} <= pub
    assert defacl >= 1
    for fn in ("uid", "role", "jwt"):
        assert funcs[fn] == ("s", "sql")
    assert token[0] == 16


def test_migrations_recorded_in_order(standin):
    with standin.connect() as conn:
        rows = q(conn, "SELECT version, name, array_length(statements, 1) "
                       "FROM supabase_migrations.schema_migrations ORDER BY version")
        owners = {r[0] for r in q(conn, "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")}
        pk = q(conn, "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                     "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'public.metric_samples'::regclass "
                     "AND i.indisprimary")
        identity = q(conn, "SELECT attidentity FROM pg_attribute WHERE attrelid = "
                           "'public.metric_samples'::regclass AND attname = 'id'")[0][0]
    assert [r[0] for r in rows] == [m.name.split("_")[0] for m in MIGRATIONS]
    assert all(r[2] == 1 for r in rows)
    assert owners == {"postgres"}
    assert pk == [("id",)] and identity == "a"   # GENERATED ALWAYS, time column not in the key


def test_smoke_data_and_rpcs(standin):
    with standin.connect() as conn:
        # (the simulator test may add rows; the generator's own are counted by range)
        counts = dict(q(conn, "SELECT 'primes', count(*) FROM primes WHERE id <= 2000 UNION ALL "
                              "SELECT 'metric_samples', count(*) FROM metric_samples "
                              "WHERE ts < '2025-06-01T00:00:00Z' UNION ALL "
                              "SELECT 'profiles', count(*) FROM profiles UNION ALL "
                              "SELECT 'users', count(*) FROM auth.users UNION ALL "
                              "SELECT 'hourly', count(*) FROM metric_rollups_hourly "
                              "WHERE bucket_start < '2025-06-01T00:00:00Z'"))
        stats = q(conn, "SELECT get_stats()")[0][0]
        board = q(conn, "SELECT * FROM get_form_leaderboard(5)")
        dist = q(conn, "SELECT sum(prime_count) FROM get_digit_distribution(NULL, 10000)")[0][0]
        # the application's rollup SQL reproduces what the generator stored
        rollup_digest = ("SELECT md5(string_agg(concat_ws(',', bucket_start, scope, metric, labels, "
                         "count, sum::numeric(20,6), min, max), ';' ORDER BY bucket_start, scope, "
                         "metric, labels::text)) FROM metric_rollups_hourly "
                         "WHERE bucket_start < '2025-06-01T00:00:00Z'")
        before = q(conn, rollup_digest)[0][0]
        q(conn, "SELECT rollup_metrics_hourly('2025-05-31T00:00:00Z', '2025-06-01T00:00:00Z')")
        after = q(conn, rollup_digest)[0][0]
        conn.rollback()
    assert counts == {"primes": 2000, "metric_samples": 46080, "profiles": 20, "users": 20,
                      "hourly": 768}
    assert stats["total_primes"] >= 2000 and len(board) == 5 and dist >= 2000
    assert before == after


def test_rls_policies_filter_rows_by_jwt_claims(standin):
    with standin.connect() as conn:
        owner, n_own, n_public, n_total = q(conn, """
            SELECT owner_id, count(*) FILTER (WHERE NOT is_public), (SELECT count(*) FROM projects
              WHERE is_public), (SELECT count(*) FROM projects)
              FROM projects GROUP BY owner_id ORDER BY count(*) DESC LIMIT 1""")[0]
        own_tasks = q(conn, "SELECT count(*) FROM agent_tasks WHERE created_by = %s", (owner,))[0][0]
    # PostgREST's way in: authenticator (NOINHERIT) switches role and sets the claims.
    conn = connect(standin.ip, user="authenticator", password=AUTHENTICATOR_PW)
    try:
        claims = json.dumps({"sub": str(owner), "role": "authenticated"})
        q(conn, "SET ROLE authenticated")
        q(conn, "SELECT set_config('request.jwt.claims', %s, false)", (claims,))
        who = q(conn, "SELECT auth.uid()::text, auth.role(), auth.jwt() ->> 'sub'")[0]
        seen = q(conn, "SELECT count(*) FROM projects")[0][0]
        tasks = q(conn, "SELECT count(*), count(*) FILTER (WHERE created_by = auth.uid()) "
                        "FROM agent_tasks")[0]
        profiles = q(conn, "SELECT id::text FROM profiles")
        q(conn, "RESET ROLE")
        q(conn, "SET ROLE anon")
        q(conn, "SELECT set_config('request.jwt.claims', '{\"role\": \"anon\"}', false)")
        anon_seen = q(conn, "SELECT count(*) FROM projects")[0][0]
        anon_tasks = q(conn, "SELECT count(*) FROM agent_tasks")[0][0]
        anon_primes = q(conn, "SELECT count(*) FROM primes")[0][0]
        conn.rollback()
        q(conn, "SET ROLE authenticated")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            q(conn, "INSERT INTO projects (slug, name, owner_id) VALUES "
                    "('not-mine', 'x', gen_random_uuid())")
    finally:
        conn.close()
    assert who == (str(owner), "authenticated", str(owner))
    assert n_own > 0 and seen == n_public + n_own < n_total
    assert tasks == (own_tasks, own_tasks)
    assert profiles == [(str(owner),)]
    assert anon_seen == n_public and anon_tasks == 0 and anon_primes >= 2000


def test_pooler_answers_in_transaction_mode(standin):
    a = connect(standin.ip, port=6543)
    b = connect(standin.ip, port=6543)
    try:
        a.autocommit = True
        pid_a = q(a, "SELECT pg_backend_pid()")[0][0]          # server goes back to the pool
        pid_b = q(b, "SELECT pg_backend_pid()")[0][0]          # b opens a transaction on it
        port = q(b, "SELECT inet_server_port()")[0][0]
        b.rollback()
        assert pid_a == pid_b, "a second client reused the first client's server connection"
        assert port == 5432
        # prepared statements do not survive a transaction in transaction mode
        q(a, "PREPARE s AS SELECT 1")
    finally:
        a.close()
        b.close()


def test_second_run_changes_nothing_and_check_mode_is_clean(standin):
    again = run_playbook(standin.container, SUPABASE_PLAY, tmp_path=standin.tmp)
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again.stdout)["changed"] == 0, again.stdout[-6000:]
    check = run_playbook(standin.container, SUPABASE_PLAY, ("--check", "--diff"), tmp_path=standin.tmp)
    assert check.returncode == 0, check.stdout[-4000:]
    assert recap(check.stdout)["changed"] == 0, check.stdout[-6000:]


def datagen(standin, *args):
    dsn = (f"host={standin.ip} port=5432 dbname=postgres user=postgres password={POSTGRES_PW} "
           "sslmode=disable")
    return subprocess.run([sys.executable, str(DATAGEN), dsn, *args], text=True,
                          capture_output=True, timeout=600)


def test_datagen_refuses_what_it_cannot_honour(standin):
    for args, needle in ((["--seed", "-3"], "seed -3"), (["--seed", str(2**40)], "seed"),
                         (["--nodes", "0"], "--nodes 0"),
                         (["--nodes", "5000", "--days", "3650"], "metric samples"),
                         ([], "pass --truncate")):
        res = datagen(standin, *args)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        assert needle in res.stderr and "Traceback" not in res.stderr
    res = datagen(standin, "--size", "huge")
    assert res.returncode == 2 and "invalid choice" in res.stderr


def test_datagen_is_deterministic(standin):
    # the generator's rows only (the simulator test may have added its own)
    digest = ("SELECT md5(string_agg(concat_ws(',', id, expression, digits, found_at, metadata), ';' "
              "ORDER BY id)) || md5((SELECT string_agg(concat_ws(',', id, ts, scope, metric, value), "
              "';' ORDER BY id) FROM metric_samples WHERE ts < '2025-06-01T00:00:00Z')) || "
              "md5((SELECT string_agg(id::text || email, ';' ORDER BY id) FROM auth.users)) "
              "FROM primes WHERE id <= 2000")
    with standin.connect() as conn:
        original = q(conn, digest)[0][0]
    res = datagen(standin, "--truncate", "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["tables"]["public.primes"]["rows"] == 2000
    assert report["copy_mb_per_s"] > 0
    with standin.connect() as conn:
        assert q(conn, digest)[0][0] == original
