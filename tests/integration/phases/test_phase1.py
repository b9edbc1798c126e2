"""playbooks/phase1.yml against the Supabase stand-in (PostgreSQL 17), on scratch copies of
its database: the stand-in is shared, so phase 1 never touches database postgres. Each test
makes its own copy (pg_dump | psql as supabase_admin inside the container) or its own empty
database, with a name of its own, and drops it afterwards; the stand-in's container plays
the coordinator (timers, env file), which is put back as it was."""
from __future__ import annotations

import contextlib
import json
import subprocess
import uuid

import psycopg2
import pytest

from helpers.standin import AUTHENTICATOR_PW, POSTGRES_PW, recap
from helpers.containers import ROOT, labenv

UNITS = ("dbfleet-dashboard-refresh", "dbfleet-partition-maintenance")
KEEP_ALL = "520 weeks"   # keeps the smoke data (it ends 2025-06-01) through the conversion

FINGERPRINT = """
SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
  SELECT 'rel:' || n.nspname || '.' || c.relname || ':' || c.relkind::text || ':' || coalesce(c.relacl::text, '')
         || ':' || c.relrowsecurity::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname !~ '^pg_(toast_)?temp_'
  UNION ALL
  SELECT 'fn:' || n.nspname || '.' || p.proname || ':' || md5(p.prosrc) || coalesce(p.proacl::text, '')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT 'policy:' || polrelid::regclass::text || '.' || polname FROM pg_policy
  UNION ALL
  SELECT 'ns:' || nspname || coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace
   WHERE nspname !~ '^pg_(toast_)?temp_'  -- left behind by any session's temporary table (REFRESH ... CONCURRENTLY)
) AS s(x)"""

ROWS = ("SELECT count(*), md5(string_agg(md5(t::text), '' ORDER BY t.id)) "
        "FROM public.metric_samples AS t")


def admin_sql(standin, command: str, check: bool = True):
    """psql as supabase_admin (peer login as the OS user postgres) inside the container."""
    return standin.container.run(f"psql -X -q -v ON_ERROR_STOP=1 -U supabase_admin -d postgres -c {json.dumps(command)}",
                                 user="postgres", check=check)


def grant_db(standin, db):
    admin_sql(standin, f'GRANT ALL ON DATABASE "{db}" TO postgres; '
                       f'GRANT CONNECT ON DATABASE "{db}" TO anon, authenticated, service_role, authenticator')


@contextlib.contextmanager
def scratch_db(standin, copy: bool = True):
    """A database of this test only: a copy of the stand-in's (copy=True) or empty."""
    db = f"p1_{uuid.uuid4().hex[:10]}"
    try:
        admin_sql(standin, f'CREATE DATABASE "{db}"')
        if copy:
            standin.container.run(
                f"set -o pipefail; pg_dump -U supabase_admin -d postgres | "
                f"psql -X -q -v ON_ERROR_STOP=1 -U supabase_admin -d {db} >/dev/null",
                user="postgres", timeout=600)
        grant_db(standin, db)
        yield db
    finally:
        admin_sql(standin, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', check=False)


@pytest.fixture
def coordinator(standin17):
    """The stand-in's container as the coordinator; its env file, units and phase 1's
    connection file are put back as they were afterwards."""
    c = standin17.container
    c.run("rm -rf /root/.p1-env-backup; if [ -e /opt/darkreach/.env ]; then "
          "cp -a /opt/darkreach/.env /root/.p1-env-backup; fi")
    try:
        yield standin17
    finally:
        units = " ".join(f"{u}.timer {u}.service" for u in UNITS)
        c.run(f"systemctl disable --now {units} 2>/dev/null; "
              f"rm -f {' '.join(f'/etc/systemd/system/{u}.timer /etc/systemd/system/{u}.service' for u in UNITS)} "
              f"/etc/dbfleet/phase1-source.env; systemctl daemon-reload; "
              "if [ -e /root/.p1-env-backup ]; then mv /root/.p1-env-backup /opt/darkreach/.env; "
              "else rm -f /opt/darkreach/.env; fi; userdel dbfleet-jobs", check=False)


def run_job(standin, unit):
    """Start a timer's service once and wait for it (the journal in the message if it fails)."""
    res = standin.container.run(f"systemctl start {unit}.service", check=False)
    assert res.returncode == 0, standin.container.run(
        f"journalctl -u {unit}.service --no-pager -n 30", check=False).stdout


def phase1(standin, tmp_path, db, *extra, retention=KEEP_ALL):
    inv = tmp_path / "phase1.inventory.yml"
    inv.write_text(json.dumps({"all": {
        "children": {"coordinator": {"hosts": {standin.container.name: {
            "ansible_connection": "containers.podman.podman",
            "ansible_python_interpreter": "/usr/bin/python3"}}}},
        "vars": {"dbfleet_supabase_host": "127.0.0.1", "dbfleet_supabase_direct_port": 5432,
                 "dbfleet_supabase_pooler_port": 6543,
                 "dbfleet_supabase_password": POSTGRES_PW, "dbfleet_supabase_ssl_mode": "disable",
                 "dbfleet_app_db": db, "dbfleet_phase1_db": db,
                 "dbfleet_metric_samples_retention": retention}}}))
    labenv.ensure_collection_link()
    return subprocess.run([str(labenv.VENV_BIN / "ansible-playbook"), "-i", str(inv),
                           str(ROOT / "playbooks" / "phase1.yml"), *extra],
                          env=labenv.podman_env({"ANSIBLE_NOCOLOR": "1"}), cwd=str(ROOT), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)


def partition_absent(standin, tmp_path, db, *extra):
    """postgres_partition state=absent on public.metric_samples, as phase 3 runs it on the
    target before create_hypertable."""
    play = tmp_path / "absent.yml"
    play.write_text(json.dumps([{
        "name": "metric_samples one plain table again", "hosts": "coordinator", "gather_facts": False,
        "tasks": [{"name": "state=absent", "darkreach.dbfleet.postgres_partition": {
            "login_host": "127.0.0.1", "login_password": POSTGRES_PW, "login_db": db,
            "ssl_mode": "disable", "table": "public.metric_samples", "state": "absent"}}]}]))
    return subprocess.run([str(labenv.VENV_BIN / "ansible-playbook"), "-i", str(tmp_path / "phase1.inventory.yml"),
                           str(play), *extra],
                          env=labenv.podman_env({"ANSIBLE_NOCOLOR": "1"}), cwd=str(ROOT), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)


def query(standin, db, sql, params=None, user="postgres", password=POSTGRES_PW, role=None):
    conn = standin.connect(dbname=db, user=user, password=password)
    try:
        with conn, conn.cursor() as cur:
            if role:
                cur.execute(f"SET ROLE {role}")
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def rpc_answers(standin, db):
    """Every dashboard RPC's answer, as postgres and as anon (through authenticator)."""
    form = query(standin, db, "SELECT form FROM public.primes GROUP BY form ORDER BY count(*) DESC LIMIT 1")[0][0]
    calls = ["SELECT public.get_stats()",
             "SELECT * FROM public.get_form_leaderboard()",
             "SELECT * FROM public.get_form_leaderboard(3)",
             "SELECT * FROM public.get_digit_distribution()",
             "SELECT * FROM public.get_digit_distribution(NULL, 1000)",
             f"SELECT * FROM public.get_digit_distribution('{form}', 7)"]
    out = {}
    for call in calls:
        out[call] = query(standin, db, call)
        out["anon: " + call] = query(standin, db, call, user="authenticator",
                                     password=AUTHENTICATOR_PW, role="anon")
    return out


def partitions(standin, db):
    return query(standin, db, "SELECT e.relname, e.lo, e.hi, e.lo <= now() + interval '4 weeks', "
                              "c.relacl IS NULL OR c.relacl::text NOT LIKE '%%anon%%', c.relrowsecurity "
                              "FROM dbfleet.partition_list('public.metric_samples'::regclass) e "
                              "JOIN pg_class c ON c.relname = e.relname ORDER BY e.lo")


def test_phase1_views_partitions_schedule(coordinator, tmp_path):
    standin = coordinator
    with scratch_db(standin) as db:
        before_rpc = rpc_answers(standin, db)
        before_rows = query(standin, db, ROWS)[0]
        assert before_rows[0] > 1000
        assert before_rpc["SELECT public.get_stats()"][0][0]["total_primes"] > 0

        res = phase1(standin, tmp_path, db)
        assert res.returncode == 0, res.stdout[-5000:]
        assert recap(res.stdout)["changed"] >= 3

        # The RPCs read the views and answer as before, for postgres and for anon.
        assert rpc_answers(standin, db) == before_rpc
        for name in ("stats", "form_leaderboard", "digit_counts"):
            assert query(standin, db, "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                                      "WHERE c.oid = %s::regclass AND i.indisunique AND c.relkind = 'm'",
                         (f"dbfleet_dashboard.{name}",))[0][0] == 1
        assert "dbfleet_dashboard.digit_counts" in query(
            standin, db, "SELECT prosrc FROM pg_proc WHERE proname = 'get_digit_distribution'")[0][0]

        # Every row, in weekly partitions, with the primary key containing ts.
        assert query(standin, db, "SELECT relkind FROM pg_class WHERE oid = 'public.metric_samples'::regclass")[0][0] == "p"
        assert query(standin, db, ROWS)[0] == before_rows
        assert query(standin, db, "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                  "WHERE conrelid = 'public.metric_samples'::regclass AND contype = 'p'")[0][0] \
            == "PRIMARY KEY (id, ts)"
        parts = partitions(standin, db)
        assert all(p[2] - p[1] == parts[0][2] - parts[0][1] for p in parts)
        assert parts[0][1].weekday() == 0 and parts[0][2] - parts[0][1] == __import__("datetime").timedelta(days=7)
        assert query(standin, db, "SELECT max(e.hi) > now() + interval '4 weeks' FROM "
                                  "dbfleet.partition_list('public.metric_samples'::regclass) e")[0][0]
        assert all(p[4] and p[5] for p in parts), parts  # reached through the parent only
        # New rows get the next identity; anon still sees no metric (RLS kept).
        new_id = query(standin, db, "INSERT INTO public.metric_samples (scope, metric, value) "
                                    "VALUES ('fleet', 'phase1.test', 1) RETURNING id")[0][0]
        assert new_id > query(standin, db, "SELECT max(id) FROM public.metric_samples WHERE metric <> 'phase1.test'")[0][0]
        assert query(standin, db, "SELECT count(*) FROM public.metric_samples", user="authenticator",
                     password=AUTHENTICATOR_PW, role="anon")[0][0] == 0
        assert query(standin, db, "SELECT count(*) FROM public.metric_samples", user="authenticator",
                     password=AUTHENTICATOR_PW, role="authenticated")[0][0] == before_rows[0] + 1
        query(standin, db, "DELETE FROM public.metric_samples WHERE metric = 'phase1.test'")

        # Converged: a second run and --check change nothing.
        fingerprint = query(standin, db, FINGERPRINT)[0][0]
        again = phase1(standin, tmp_path, db)
        assert again.returncode == 0, again.stdout[-5000:]
        assert recap(again.stdout)["changed"] == 0, again.stdout[-5000:]
        check = phase1(standin, tmp_path, db, "--check")
        assert check.returncode == 0, check.stdout[-5000:]
        assert recap(check.stdout)["changed"] == 0, check.stdout[-5000:]
        assert query(standin, db, FINGERPRINT)[0][0] == fingerprint

        env = standin.container.run("cat /opt/darkreach/.env").stdout
        assert f"DATABASE_URL='postgresql://postgres:{POSTGRES_PW}@127.0.0.1:6543/{db}'" in env
        assert "DB_STATEMENT_CACHE_CAPACITY='0'" in env and "DATABASE_POOLER_MODE='transaction'" in env
        assert "DB_MAX_CONNECTIONS='10'" in env and f"@127.0.0.1:5432/{db}'" in env

        # The timers' jobs: the dashboard refresh sees a new prime...
        query(standin, db, "INSERT INTO public.primes (form, expression, digits) "
                           "VALUES ('factorial', 'dbfleet-phase1-test!+1', 4242)")
        total = before_rpc["SELECT public.get_stats()"][0][0]["total_primes"]
        assert query(standin, db, "SELECT public.get_stats()")[0][0]["total_primes"] == total
        run_job(standin, "dbfleet-dashboard-refresh")
        assert query(standin, db, "SELECT public.get_stats()")[0][0]["total_primes"] == total + 1
        # ...and the partition maintenance drops what is past a shorter retention.
        query(standin, db, "UPDATE dbfleet.partition_config SET retention = '8 weeks'")
        run_job(standin, "dbfleet-partition-maintenance")
        kept = partitions(standin, db)
        assert kept and all(p[1].year >= 2026 for p in kept), kept
        assert query(standin, db, "SELECT count(*) FROM public.metric_samples "
                                  "WHERE ts < now() - interval '9 weeks'")[0][0] == 0
        assert query(standin, db, "SELECT count(*) FROM public.metric_samples")[0][0] < before_rows[0]
        assert len(kept) >= 9 + 4

        # state=absent, what phase 3 runs on the target before create_hypertable: one plain
        # table with every row of every partition, the primary key (id, ts), grants, RLS and
        # identity as they were; the partitions and the maintenance configuration gone.
        query(standin, db, "INSERT INTO public.metric_samples (ts, scope, metric, value) "
                           "SELECT now() - g * interval '1 day', 'fleet', 'phase1.merge', g FROM generate_series(0, 50) AS g")
        rows = query(standin, db, ROWS)[0]
        assert rows[0] == 51 and query(standin, db, "SELECT count(DISTINCT tableoid) FROM public.metric_samples")[0][0] >= 7
        acl = query(standin, db, "SELECT (SELECT array_agg(x ORDER BY x) FROM unnest(relacl::text[]) AS x), relrowsecurity FROM pg_class "
                                 "WHERE oid = 'public.metric_samples'::regclass")[0]
        check = partition_absent(standin, tmp_path, db, "--check")
        assert check.returncode == 0 and recap(check.stdout)["changed"] == 1, check.stdout[-3000:]
        assert query(standin, db, "SELECT relkind FROM pg_class WHERE oid = 'public.metric_samples'::regclass")[0][0] == "p"
        res = partition_absent(standin, tmp_path, db)
        assert res.returncode == 0 and recap(res.stdout)["changed"] == 1, res.stdout[-3000:]
        assert query(standin, db, "SELECT relkind, relispartition FROM pg_class "
                                  "WHERE oid = 'public.metric_samples'::regclass")[0] == ("r", False)
        assert query(standin, db, "SELECT count(*) FROM pg_class WHERE relname ~ '^metric_samples_p[0-9]{8}'")[0][0] == 0
        assert query(standin, db, ROWS)[0] == rows
        assert query(standin, db, "SELECT (SELECT array_agg(x ORDER BY x) FROM unnest(relacl::text[]) AS x), relrowsecurity FROM pg_class "
                                  "WHERE oid = 'public.metric_samples'::regclass")[0] == acl
        assert query(standin, db, "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                  "WHERE conrelid = 'public.metric_samples'::regclass AND contype = 'p'")[0][0] \
            == "PRIMARY KEY (id, ts)"
        assert query(standin, db, "SELECT count(*) FROM dbfleet.partition_config")[0][0] == 0
        assert query(standin, db, "SELECT count(*) FROM public.metric_samples", user="authenticator",
                     password=AUTHENTICATOR_PW, role="anon")[0][0] == 0
        new_id = query(standin, db, "INSERT INTO public.metric_samples (scope, metric, value) "
                                    "VALUES ('fleet', 'phase1.test', 1) RETURNING id")[0][0]
        assert new_id > query(standin, db, "SELECT max(id) FROM public.metric_samples WHERE metric = 'phase1.merge'")[0][0]
        again = partition_absent(standin, tmp_path, db)
        assert again.returncode == 0 and recap(again.stdout)["changed"] == 0, again.stdout[-3000:]


@pytest.mark.parametrize("case, extra, message", [
    ("no-tables", (), "table public.metric_samples, table public.primes"),
    ("no-time-column", (), "missing: column ts of table public.metric_samples."),
    ("bad-interval", ("-e", "dbfleet_metric_samples_interval='1 fortnight'"),
     'interval: "1 fortnight" is not a valid PostgreSQL interval'),
    ("short-retention", ("-e", "dbfleet_metric_samples_retention='3 days'"),
     'retention "3 days" is shorter than one partition ("7 days")'),
], ids=["no-tables", "no-time-column", "bad-interval", "short-retention"])
def test_bad_input_is_refused_and_changes_nothing(coordinator, tmp_path, case, extra, message):
    standin = coordinator
    with scratch_db(standin, copy=case != "no-tables") as db:
        if case == "no-time-column":
            query(standin, db, "ALTER TABLE public.metric_samples RENAME COLUMN ts TO taken_at")
        fingerprint = query(standin, db, FINGERPRINT)[0][0]
        res = phase1(standin, tmp_path, db, *extra)
        assert res.returncode != 0, res.stdout[-3000:]
        assert message in res.stdout, res.stdout[-3000:]
        assert query(standin, db, FINGERPRINT)[0][0] == fingerprint
