"""The cutover modules end to end: supabase_dump from the Supabase stand-in
(PostgreSQL 17 and 15), supabase_restore into PostgreSQL 17 + TimescaleDB,
cutover_verify; RLS with auth.uid() behaves the same on the target.

The modules run inside the target's container, as the cutover playbook runs them on
the new primary (its pg_dump is at least the source's major)."""
from __future__ import annotations

import json
import textwrap

import psycopg2
import pytest

from helpers.standin import AUTHENTICATOR_PW, POSTGRES_PW, connect, run_playbook, standin_for


def results(proc, host):
    out = json.loads(proc.stdout[proc.stdout.index("{"):])
    return {t["task"]["name"]: t["hosts"][host] for p in out["plays"] for t in p["tasks"]}


def cutover_play(standin, server, db, extra_restore="", force=False):
    return f"""
- name: Cutover modules
  hosts: all
  gather_facts: false
  vars:
    source: {{login_host: "{standin.ip}", login_port: 5432, login_user: postgres,
              login_password: "{POSTGRES_PW}", login_db: postgres, ssl_mode: disable}}
  tasks:
    - name: dump
      darkreach.dbfleet.supabase_dump:
        login_host: "{standin.ip}"
        login_user: postgres
        login_password: "{POSTGRES_PW}"
        login_db: postgres
        ssl_mode: disable
        dest: /var/tmp/cutover-{db}
        jobs: 2
        force: {str(force).lower()}
    - name: restore
      darkreach.dbfleet.supabase_restore:
        login_host: 127.0.0.1
        login_user: postgres
        login_password: "{server['password']}"
        login_db: {db}
        ssl_mode: disable
        src: /var/tmp/cutover-{db}
        jobs: 2
        {extra_restore}
    - name: verify
      darkreach.dbfleet.cutover_verify:
        source: "{{{{ source }}}}"
        login_host: 127.0.0.1
        login_user: postgres
        login_password: "{server['password']}"
        login_db: {db}
        ssl_mode: disable
"""


def admin(server, db="postgres"):
    conn = psycopg2.connect(host=server["host"], user="postgres", password=server["password"],
                            dbname=db, sslmode="disable")
    conn.autocommit = True
    return conn


def q(conn, query, params=None):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else None


@pytest.fixture(scope="module")
def cutover(standin, timescale_server, tmp_path_factory):
    """One cutover per stand-in suite into a fresh database on the target."""
    db = f"cut_{standin.suite}"
    conn = admin(timescale_server)
    q(conn, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    q(conn, f"CREATE DATABASE {db}")
    conn.close()
    container = timescale_server["container"]
    tmp = tmp_path_factory.mktemp(f"cutover-{standin.suite}")
    proc = run_playbook(container, cutover_play(standin, timescale_server, db), tmp_path=tmp,
                        env={"ANSIBLE_STDOUT_CALLBACK": "json"})
    res = results(proc, container.name)
    yield dict(db=db, res=res, proc=proc, container=container, tmp=tmp, standin=standin,
               server=timescale_server)


def test_dump_restore_verify_identical(cutover):
    res = cutover["res"]
    dump, restore, verify = res["dump"], res["restore"], res["verify"]
    assert not dump.get("failed"), dump.get("msg")
    assert dump["changed"] and dump["server_major"] == cutover["standin"].major
    assert {"public.primes", "public.metric_samples", "public.work_blocks"} <= {t["name"] for t in dump["tables"]}
    assert "s3cret" not in cutover["proc"].stdout.replace(POSTGRES_PW, "")
    assert not restore.get("failed"), restore.get("msg")
    assert restore["restored"] is True
    # roles are cluster-wide: the first cutover into this server creates the placeholders
    conn = admin(cutover["server"], cutover["db"])
    try:
        assert q(conn, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'supabase_admin'") == [(False,)]
        assert q(conn, "SELECT count(*) FROM auth.users")[0][0] > 0
        # gen_random_bytes() unqualified, through the search_path the restore set
        assert len(q(conn, "SELECT gen_random_bytes(8)")[0][0]) == 8
    finally:
        conn.close()
    assert not verify.get("failed"), json.dumps(verify.get("differences"), indent=1)
    assert verify["identical"] is True, verify["differences"]
    assert verify["rows"] > 10000


def test_password_never_printed(cutover):
    assert POSTGRES_PW not in cutover["proc"].stdout


def test_rls_with_auth_uid_behaves_the_same_on_target(cutover):
    standin, server, db = cutover["standin"], cutover["server"], cutover["db"]

    def as_user(conn):
        owner = q(conn, "SELECT owner_id FROM projects WHERE NOT is_public "
                        "GROUP BY owner_id ORDER BY count(*) DESC, owner_id LIMIT 1")[0][0]
        q(conn, "SET ROLE authenticated")
        q(conn, "SELECT set_config('request.jwt.claims', %s, false)",
          (json.dumps({"sub": str(owner), "role": "authenticated"}),))
        seen = q(conn, "SELECT count(*), count(*) FILTER (WHERE owner_id = auth.uid()) FROM projects")[0]
        tasks = q(conn, "SELECT count(*) FROM agent_tasks")[0][0]
        q(conn, "RESET ROLE")
        q(conn, "SET ROLE anon")
        anon = q(conn, "SELECT count(*) FROM projects")[0][0]
        q(conn, "RESET ROLE")
        return owner, seen, tasks, anon

    src = connect(standin.ip, password=POSTGRES_PW)
    dst = admin(server, db)
    try:
        assert as_user(src) == as_user(dst)
        assert q(dst, "SELECT rolcanlogin, rolinherit FROM pg_roles WHERE rolname = 'authenticator'") == [(True, False)]
    finally:
        src.close()
        dst.close()
    # authenticator (no password carried) cannot log in until the target gives it one
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host=server["host"], user="authenticator", password=AUTHENTICATOR_PW,
                         dbname=db, sslmode="disable", connect_timeout=5)


def test_second_run_changes_nothing(cutover):
    proc = run_playbook(cutover["container"], cutover_play(cutover["standin"], cutover["server"],
                                                           cutover["db"]),
                        tmp_path=cutover["tmp"], env={"ANSIBLE_STDOUT_CALLBACK": "json"})
    res = results(proc, cutover["container"].name)
    assert res["dump"]["changed"] is False and res["restore"]["changed"] is False
    assert res["restore"]["restored"] is False
    assert res["verify"]["identical"] is True


def test_altered_row_on_target_is_named(cutover):
    conn = admin(cutover["server"], cutover["db"])
    q(conn, "UPDATE primes SET digits = digits + 1 WHERE id = (SELECT min(id) FROM primes)")
    try:
        proc = run_playbook(cutover["container"], cutover_play(cutover["standin"], cutover["server"],
                                                               cutover["db"]),
                            tmp_path=cutover["tmp"], env={"ANSIBLE_STDOUT_CALLBACK": "json"})
        verify = results(proc, cutover["container"].name)["verify"]
        assert verify.get("failed") and "table public.primes (checksum)" in verify["msg"]
    finally:
        q(conn, "UPDATE primes SET digits = digits - 1 WHERE id = (SELECT min(id) FROM primes)")
        conn.close()


def run_one(cutover, task: str) -> dict:
    play = f"""
- name: One module
  hosts: all
  gather_facts: false
  tasks:
    - name: under test
{textwrap.indent(task.strip(), '      ')}
"""
    proc = run_playbook(cutover["container"], play, tmp_path=cutover["tmp"],
                        env={"ANSIBLE_STDOUT_CALLBACK": "json"})
    return results(proc, cutover["container"].name)["under test"]


def dump_task(host, port=5432, password=POSTGRES_PW, dest="/var/tmp/bad-dump", **extra):
    lines = [f"login_host: '{host}'", f"login_port: {port}", "login_user: postgres",
             f"login_password: '{password}'", "login_db: postgres", "ssl_mode: disable",
             f"dest: {dest}", "connect_timeout: 5"] + [f"{k}: {v}" for k, v in extra.items()]
    return "darkreach.dbfleet.supabase_dump:\n" + "\n".join("  " + line for line in lines)


def test_transaction_pooler_is_refused(cutover):
    res = run_one(cutover, dump_task(cutover["standin"].ip, port=6543))
    assert res.get("failed") and "is the transaction pooler" in res["msg"]
    assert "direct endpoint" in res["msg"]


def test_wrong_password_and_unreachable_source(cutover):
    res = run_one(cutover, dump_task(cutover["standin"].ip, password="wrong-pw"))
    assert res.get("failed") and "unable to connect to source database" in res["msg"]
    assert "password authentication failed" in res["msg"]
    res = run_one(cutover, dump_task(cutover["standin"].ip, port=5999))
    assert res.get("failed") and "unable to connect to source database" in res["msg"]


def test_too_little_disk_is_refused_before_dumping(cutover):
    res = run_one(cutover, dump_task(cutover["standin"].ip, dest="/var/tmp/never-made",
                                     free_space_factor=1000000000))
    assert res.get("failed") and "too little disk for the dump" in res["msg"]
    check = cutover["container"].run("test -e /var/tmp/never-made && echo yes || echo no")
    assert check.stdout.strip() == "no"


def test_non_empty_target_is_refused(cutover):
    task = f"""darkreach.dbfleet.supabase_restore:
  login_host: 127.0.0.1
  login_user: postgres
  login_password: "{cutover['server']['password']}"
  login_db: {cutover['server']['db']}
  ssl_mode: disable
  src: /var/tmp/cutover-{cutover['db']}
"""
    conn = admin(cutover["server"], cutover["server"]["db"])
    q(conn, "CREATE TABLE IF NOT EXISTS public.primes (id int)")
    try:
        res = run_one(cutover, task)
        assert res.get("failed") and "the target is not empty: public.primes" in res["msg"]
    finally:
        q(conn, "DROP TABLE public.primes")
        conn.close()


def test_target_older_than_source_is_refused(timescale_server, standin17, container_factory,
                                              tmp_path_factory):
    """A PostgreSQL 17 dump into the PostgreSQL 15 stand-in."""
    standin15 = standin_for("bookworm", container_factory, tmp_path_factory)
    ctx = dict(container=timescale_server["container"], tmp=tmp_path_factory.mktemp("older"))
    assert not run_one(ctx, dump_task(standin17.ip, dest="/var/tmp/dump17")).get("failed")
    task = f"""darkreach.dbfleet.supabase_restore:
  login_host: "{standin15.ip}"
  login_user: postgres
  login_password: "{POSTGRES_PW}"
  login_db: postgres
  ssl_mode: disable
  src: /var/tmp/dump17
"""
    res = run_one(ctx, task)
    assert res.get("failed") and "older than the source (17)" in res["msg"]
