"""The logical-replication cutover end to end: the schema restored (supabase_dump with
data=false, supabase_restore), then supabase_logical_sync present / synced / synced
final / absent from the Supabase stand-in (PostgreSQL 15 and 17, whose postgres role
is not superuser but has REPLICATION, as on hosted Supabase) into PostgreSQL 17 +
TimescaleDB, while a writer keeps changing the source; cutover_verify afterwards.

The modules run inside the target's container, as the cutover playbook runs them."""
from __future__ import annotations

import json
import threading
import time
import uuid

import psycopg2
import pytest

from helpers.standin import POSTGRES_PW, connect, run_playbook

NAME = "dbfleet_cutover"


def results(proc, host):
    out = json.loads(proc.stdout[proc.stdout.index("{"):])
    return {t["task"]["name"]: t["hosts"][host] for p in out["plays"] for t in p["tasks"]}


def q(conn, query, params=None):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else None


def admin(server, db="postgres"):
    conn = psycopg2.connect(host=server["host"], user="postgres", password=server["password"],
                            dbname=db, sslmode="disable")
    conn.autocommit = True
    return conn


class Ctx:
    def __init__(self, standin, server, db, tmp):
        self.standin, self.server, self.db, self.tmp = standin, server, db, tmp
        self.container = server["container"]

    def source(self, port=5432):
        return (f'{{login_host: "{self.standin.ip}", login_port: {port}, login_user: postgres, '
                f'login_password: "{POSTGRES_PW}", login_db: postgres, ssl_mode: disable}}')

    def target(self):
        return (f'login_host: 127.0.0.1\n        login_user: postgres\n'
                f'        login_password: "{self.server["password"]}"\n        login_db: {self.db}\n'
                f'        ssl_mode: disable')

    def sync(self, name, state, extra="", port=5432):
        return f"""
    - name: {name}
      darkreach.dbfleet.supabase_logical_sync:
        source: {self.source(port)}
        {self.target()}
        state: {state}
        wait_timeout: 600
        {extra}"""

    def play(self, tasks, *args):
        body = f"""
- name: Logical cutover
  hosts: all
  gather_facts: false
  tasks:{tasks}
"""
        proc = run_playbook(self.container, body, extra_args=args, tmp_path=self.tmp,
                            env={"ANSIBLE_STDOUT_CALLBACK": "json"})
        return results(proc, self.container.name), proc

    def schema_tasks(self):
        return f"""
    - name: dump
      darkreach.dbfleet.supabase_dump:
        login_host: "{self.standin.ip}"
        login_user: postgres
        login_password: "{POSTGRES_PW}"
        login_db: postgres
        ssl_mode: disable
        dest: /var/tmp/logical-{self.db}
        data: false
        force: true
    - name: restore
      darkreach.dbfleet.supabase_restore:
        {self.target()}
        src: /var/tmp/logical-{self.db}"""

    def verify_task(self):
        return f"""
    - name: verify
      darkreach.dbfleet.cutover_verify:
        source: {self.source()}
        {self.target()}"""


class Writer(threading.Thread):
    """Keeps writing to the source as the services would: inserts, updates, deletes."""

    def __init__(self, standin):
        super().__init__(daemon=True)
        self.conn = connect(standin.ip)
        self.conn.autocommit = True
        self.stop = threading.Event()
        self.tag = uuid.uuid4().hex[:8]
        self.inserted = 0
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set():
                n = self.inserted
                q(self.conn, "INSERT INTO system_logs (level, source, message) VALUES "
                             "('info', 'coordinator', %s)", (f"logical-{self.tag}-{n}",))
                q(self.conn, "INSERT INTO primes (form, expression, digits) VALUES "
                             "('kbn', %s, 10)", (f"logical-{self.tag}-{n}",))
                q(self.conn, "UPDATE workers SET last_heartbeat = now() WHERE id = "
                             "(SELECT id FROM workers ORDER BY id LIMIT 1 OFFSET %s)", (n % 5,))
                q(self.conn, "DELETE FROM system_logs WHERE id = (SELECT min(id) FROM system_logs)")
                self.inserted += 1
                time.sleep(0.05)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def finish(self):
        self.stop.set()
        self.join(30)
        self.conn.close()
        assert self.error is None, self.error


def source_leftovers(standin):
    conn = connect(standin.ip)
    try:
        return (q(conn, "SELECT pubname FROM pg_publication WHERE pubname = %s", (NAME,)),
                q(conn, "SELECT slot_name FROM pg_replication_slots"))
    finally:
        conn.close()


@pytest.fixture(scope="module")
def logical(standin, timescale_server, tmp_path_factory):
    """The whole logical cutover once per stand-in suite, with a writer during the sync."""
    db = f"logical_{standin.suite}"
    conn = admin(timescale_server)
    q(conn, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    q(conn, f"CREATE DATABASE {db}")
    conn.close()
    with admin(timescale_server, db) as c:
        q(c, "CREATE EXTENSION IF NOT EXISTS timescaledb")
    ctx = Ctx(standin, timescale_server, db, tmp_path_factory.mktemp(f"logical-{standin.suite}"))
    out = {"ctx": ctx}
    res, proc = ctx.play(ctx.schema_tasks())
    out["schema"] = res
    assert not res["restore"].get("failed"), res["restore"].get("msg")
    with admin(timescale_server, db) as c:
        out["rows_after_schema"] = q(c, "SELECT (SELECT count(*) FROM primes) + (SELECT count(*) FROM metric_samples)")[0][0]
        out["users_after_schema"] = q(c, "SELECT count(*) FROM auth.users")[0][0]
    out["check"], _ = ctx.play(ctx.sync("present", "present"), "--check")
    out["after_check"] = source_leftovers(standin)
    writer = Writer(standin)
    writer.start()
    try:
        time.sleep(1)
        res, proc = ctx.play(ctx.sync("present", "present") + ctx.sync("present again", "present")
                             + ctx.sync("caught up", "synced"))
        out["sync"], out["sync_proc"] = res, proc
        # a user signs up during the sync (auth.users is the platform's: not publishable)
        out["new_user"] = str(uuid.uuid4())
        standin.container.run(
            "psql -X -q -v ON_ERROR_STOP=1 -U supabase_admin -d postgres", user="postgres",
            stdin=f"INSERT INTO auth.users (id, email, aud, role) VALUES "
                  f"('{out['new_user']}', 'logical-{writer.tag}@example.com', 'authenticated', 'authenticated');")
        time.sleep(2)
    finally:
        writer.finish()  # the write freeze starts
    out["writer"] = writer
    frozen = time.monotonic()
    res, proc = ctx.play(ctx.sync("final", "synced", "final: true") + ctx.sync("absent", "absent"))
    out["freeze_s"] = time.monotonic() - frozen
    out["final"], out["final_proc"] = res, proc
    out["verify"], _ = ctx.play(ctx.verify_task() + ctx.sync("absent again", "absent"))
    yield out
    # never leave the source publishing, whatever failed above
    ctx.play(ctx.sync("cleanup", "absent"))
    # the stand-in is shared with other suites (tests/integration/standins counts its users
    # and profiles): the user who signed up here leaves again (the profile goes by cascade)
    if "new_user" in out:
        standin.container.run(
            "psql -X -q -v ON_ERROR_STOP=1 -U supabase_admin -d postgres", user="postgres",
            stdin=f"DELETE FROM auth.users WHERE id = '{out['new_user']}';")


def test_check_mode_changes_nothing_on_either_side(logical):
    res = logical["check"]["present"]
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    assert any(s.startswith("source: CREATE PUBLICATION \"dbfleet_cutover\" FOR TABLE") for s in res["queries"]), res["queries"]
    assert any("'********'" in s for s in res["queries"] if "CREATE SUBSCRIPTION" in s)
    assert logical["after_check"] == ([], [])


def test_schema_only_dump_restores_no_rows(logical):
    dump = logical["schema"]["dump"]
    assert not dump.get("failed"), dump.get("msg")
    assert logical["schema"]["restore"]["restored"] is True
    assert logical["rows_after_schema"] == 0
    assert logical["users_after_schema"] > 0  # auth.users comes whole with the schema


def test_present_is_idempotent_and_sync_catches_up(logical):
    res = logical["sync"]
    assert not res["present"].get("failed"), res["present"].get("msg")
    assert res["present"]["changed"] is True
    assert "public.primes" in res["present"]["tables"]
    assert res["present again"]["changed"] is False, res["present again"]["queries"]
    synced = res["caught up"]
    assert not synced.get("failed"), synced.get("msg")
    assert synced["table_states"] == {"ready": len(res["present"]["tables"])}
    assert POSTGRES_PW not in logical["sync_proc"].stdout


def test_freeze_is_short_and_sequences_are_set(logical):
    final = logical["final"]["final"]
    assert not final.get("failed"), final.get("msg")
    assert final["waited"] < 15, final
    assert "public.primes_id_seq" in final["sequences_set"]
    assert "auth.users" in final["copied_tables"]
    # write freeze: the final wait, sequences, auth.users, dropping the subscription,
    # with two module runs' Ansible overhead on a shared 2-core machine
    assert logical["freeze_s"] < 60, logical["freeze_s"]


def test_rows_written_during_sync_arrive_and_verify_is_clean(logical):
    ctx, writer = logical["ctx"], logical["writer"]
    assert writer.inserted > 20
    verify = logical["verify"]["verify"]
    assert not verify.get("failed"), json.dumps(verify.get("differences"), indent=1)
    assert verify["identical"] is True
    conn = admin(ctx.server, ctx.db)
    try:
        assert q(conn, "SELECT count(*) FROM primes WHERE expression LIKE %s",
                 (f"logical-{writer.tag}-%",))[0][0] == writer.inserted
        assert q(conn, "SELECT count(*) FROM auth.users WHERE id = %s", (logical["new_user"],)) == [(1,)]
        # the signup trigger's profile row came through the publication
        assert q(conn, "SELECT count(*) FROM profiles WHERE id = %s", (logical["new_user"],)) == [(1,)]
    finally:
        conn.close()


def test_sequences_are_right_after_the_switch(logical):
    ctx = logical["ctx"]
    conn = admin(ctx.server, ctx.db)
    try:
        top = q(conn, "SELECT max(id) FROM primes")[0][0]
        new = q(conn, "INSERT INTO primes (form, expression, digits) VALUES ('kbn', %s, 11) "
                      "RETURNING id", (f"after-switch-{uuid.uuid4().hex}",))[0][0]
        assert new > top
        logs = q(conn, "SELECT max(id) FROM system_logs")[0][0]
        new = q(conn, "INSERT INTO system_logs (level, source, message) VALUES "
                      "('info', 'api', 'after the switch') RETURNING id")[0][0]
        assert new > logs
    finally:
        conn.close()


def test_absent_leaves_the_source_as_it_was(logical):
    final = logical["final"]["absent"]
    assert not final.get("failed"), final.get("msg")
    assert final["changed"] is True
    assert any(s.startswith("source: DROP PUBLICATION") for s in final["queries"])
    assert logical["verify"]["absent again"]["changed"] is False
    assert source_leftovers(logical["ctx"].standin) == ([], [])


def test_table_without_replica_identity_is_refused_by_name(logical):
    ctx = logical["ctx"]
    conn = connect(ctx.standin.ip)
    conn.autocommit = True
    q(conn, "CREATE TABLE public.logical_no_key (a int, b text)")
    try:
        res, _ = ctx.play(ctx.sync("refused", "present"))
        res = res["refused"]
        assert res.get("failed")
        assert "public.logical_no_key (no primary key and no replica identity)" in res["msg"]
        assert res["refused"] == ["public.logical_no_key"]
        assert source_leftovers(ctx.standin) == ([], [])
    finally:
        q(conn, "DROP TABLE public.logical_no_key")
        conn.close()


def test_transaction_pooler_is_refused(logical):
    ctx = logical["ctx"]
    res, _ = ctx.play(ctx.sync("pooler", "present", port=6543))
    res = res["pooler"]
    assert res.get("failed") and "needs the direct endpoint" in res["msg"]
    assert source_leftovers(ctx.standin) == ([], [])
