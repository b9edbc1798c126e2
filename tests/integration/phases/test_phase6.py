"""playbooks/phase6.yml against the Supabase stand-in (PostgreSQL 17): before the cutover
the new-prime trigger goes on the source, and a LISTEN client receives each new prime.
The stand-in's container plays the coordinator (the play runs there and reaches the
source on 127.0.0.1). Everything made here is removed again: the stand-in is shared."""
from __future__ import annotations

import json
import select
import subprocess
import time

import psycopg2
import pytest

from helpers.standin import POSTGRES_PW, recap, run_playbook
from helpers.containers import ROOT, labenv

CHANNEL = "darkreach_new_prime"


def phase6(standin, tmp_path, *extra):
    inv = tmp_path / "phase6.inventory.yml"
    inv.write_text(json.dumps({"all": {
        "children": {"coordinator": {"hosts": {standin.container.name: {
            "ansible_connection": "containers.podman.podman",
            "ansible_python_interpreter": "/usr/bin/python3"}}}},
        "vars": {"dbfleet_supabase_host": "127.0.0.1", "dbfleet_supabase_direct_port": 5432,
                 "dbfleet_supabase_password": POSTGRES_PW, "dbfleet_supabase_ssl_mode": "disable",
                 "dbfleet_app_db": "postgres"}}}))
    labenv.ensure_collection_link()
    return subprocess.run([str(labenv.VENV_BIN / "ansible-playbook"), "-i", str(inv),
                           str(ROOT / "playbooks" / "phase6.yml"), *extra],
                          env=labenv.podman_env({"ANSIBLE_NOCOLOR": "1"}), cwd=str(ROOT), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)


def drop_trigger(standin, tmp_path):
    res = run_playbook(standin.container, f"""
- hosts: all
  gather_facts: false
  tasks:
    - darkreach.dbfleet.postgres_notify_trigger:
        login_host: 127.0.0.1
        login_password: {POSTGRES_PW}
        login_db: postgres
        ssl_mode: disable
        table: public.primes
        channel: {CHANNEL}
        state: absent
""", tmp_path=tmp_path)
    assert res.returncode == 0, res.stdout[-3000:]
    return res


def wait_notify(conn, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([conn], [], [], 1.0)[0]:
            conn.poll()
            if conn.notifies:
                return conn.notifies.pop(0)
    return None


def test_a_listen_client_receives_each_new_prime(standin17, tmp_path):
    res = phase6(standin17, tmp_path)
    try:
        assert res.returncode == 0, res.stdout[-4000:]
        assert recap(res.stdout)["changed"] >= 1

        listener = standin17.connect()
        listener.autocommit = True
        writer = standin17.connect()
        try:
            listener.cursor().execute(f"LISTEN {CHANNEL}")
            with writer, writer.cursor() as cur:
                cur.execute("INSERT INTO public.primes (form, expression, digits) "
                            "VALUES ('factorial', 'dbfleet-phase6-test!+1', 4242) RETURNING id")
                prime_id = cur.fetchone()[0]
            note = wait_notify(listener)
            assert note is not None, "no notification within 30 s"
            assert note.channel == CHANNEL
            payload = json.loads(note.payload)
            assert payload["id"] == prime_id
            assert payload["op"] == "INSERT" and payload["table"] == "primes"
            assert payload["expression"] == "dbfleet-phase6-test!+1" and payload["digits"] == 4242
            assert set(payload) >= {"form", "proof_method", "found_at"}

            # An expression too long for a notification still inserts; the payload says so.
            with writer, writer.cursor() as cur:
                cur.execute("INSERT INTO public.primes (form, expression, digits) "
                            "VALUES ('factorial', 'dbfleet-phase6-test-' || repeat('9', 9000), 9000)")
            note = wait_notify(listener)
            assert note is not None and json.loads(note.payload).get("truncated") is True
        finally:
            with writer, writer.cursor() as cur:
                cur.execute("DELETE FROM public.primes WHERE expression LIKE 'dbfleet-phase6-test%'")
            listener.close()
            writer.close()

        again = phase6(standin17, tmp_path)
        assert again.returncode == 0, again.stdout[-4000:]
        assert recap(again.stdout)["changed"] == 0, again.stdout[-4000:]
        check = phase6(standin17, tmp_path, "--check")
        assert check.returncode == 0, check.stdout[-4000:]
        assert recap(check.stdout)["changed"] == 0, check.stdout[-4000:]
    finally:
        drop_trigger(standin17, tmp_path)
    conn = standin17.connect()
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'primes_notify_darkreach_new_prime'")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT to_regproc('public.primes_notify_darkreach_new_prime')")
        assert cur.fetchone()[0] is None
    conn.close()


@pytest.mark.parametrize("columns, message", [
    (["id", "no_such_column"], "has no column no_such_column"),
    (["id", "form; DROP TABLE x"], "is not a safe identifier"),
], ids=["missing-column", "unsafe-identifier"])
def test_bad_input_is_refused_and_changes_nothing(standin17, tmp_path, columns, message):
    res = phase6(standin17, tmp_path, "-e", json.dumps({"dbfleet_new_prime_columns": columns}))
    assert res.returncode != 0
    assert message in res.stdout, res.stdout[-3000:]
    conn = standin17.connect()
    with conn, conn.cursor() as cur:
        cur.execute("SELECT to_regproc('public.primes_notify_darkreach_new_prime')")
        assert cur.fetchone()[0] is None
    conn.close()
