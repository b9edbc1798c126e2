#!/usr/bin/env python3
"""Cutover benchmark: dump + restore + verify with 1, 2 and 4 jobs against a plain
`pg_dump | psql`, and the write freeze of the dump mode and of the logical mode.

    .venv/bin/python benchmarks/cutover.py [--suite bookworm|trixie] [--size bench]
        [--jobs 1 --jobs 2 --jobs 4] [--keep] [--reuse] [--skip modules|plain|logical]

It starts its own two containers on the test network (198.18.2.0/24) and removes them
at the end (unless --keep): `dbfleet-t-cutover-bench-src`, the Supabase stand-in (role
lab_supabase; PostgreSQL 15 on bookworm, 17 on trixie) filled by
roles/lab_supabase/files/darkreach_datagen.py (--size bench is about 1 GB), and
`dbfleet-t-cutover-bench-dst`, PostgreSQL 17 + TimescaleDB (as the integration tests' target).
The modules run inside the target's container, as the cutover playbook runs them.

Rows:
* `modules, N jobs`: supabase_dump + supabase_restore + cutover_verify, each module's
  own duration and the wall time of the whole playbook run (Ansible included).
  In the dump mode the services are stopped for all of it: this wall time is that
  mode's write freeze (plus stopping and starting the services).
* `pg_dump | psql`: the plain pipe (one job, no preparation, errors not stopping it;
  their count is shown), into an empty database; no verification.
* `logical`: the schema (dump data=false + restore), publication and subscription,
  and the catch-up (initial copy) while a writer keeps inserting into the source; then
  the write freeze: the writer stops, synced final (last LSN, sequences, auth.users),
  absent, cutover_verify. The freeze is shown with and without the verification.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from helpers.containers import Container, labenv, remove_network  # noqa: E402
from helpers.standin import POSTGRES_PW, SUPABASE_PLAY, connect, run_playbook, SUITES  # noqa: E402
from conftest import PASSWORD, setup_server  # noqa: E402

SRC, DST = "dbfleet-t-cutover-bench-src", "dbfleet-t-cutover-bench-dst"


def results(proc) -> dict:
    try:
        out = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        raise SystemExit(f"cutover benchmark: playbook output is not JSON:\n{proc.stdout[-3000:]}")
    tasks = {}
    for play in out["plays"]:
        for task in play["tasks"]:
            res = next(iter(task["hosts"].values()))
            if res.get("failed"):
                raise SystemExit(f"cutover benchmark: {task['task']['name']} failed: {res.get('msg')}")
            tasks[task["task"]["name"]] = res
    return tasks


class Bench:
    def __init__(self, src: Container, dst: Container, tmp: Path):
        self.src, self.dst, self.tmp = src, dst, tmp

    def source(self) -> str:
        return (f'{{login_host: "{self.src.ip}", login_port: 5432, login_user: postgres, '
                f'login_password: "{POSTGRES_PW}", login_db: postgres, ssl_mode: disable}}')

    def target(self, db: str) -> str:
        return (f"login_host: 127.0.0.1\n        login_user: postgres\n"
                f"        login_password: \"{PASSWORD}\"\n        login_db: {db}\n        ssl_mode: disable")

    def play(self, tasks: str) -> tuple[dict, float]:
        body = f"""
- name: Cutover benchmark
  hosts: all
  gather_facts: false
  tasks:{tasks}
"""
        t0 = time.monotonic()
        proc = run_playbook(self.dst, body, tmp_path=self.tmp, timeout=7200,
                            env={"ANSIBLE_STDOUT_CALLBACK": "json"})
        return results(proc), time.monotonic() - t0

    def fresh_db(self, db: str) -> None:
        self.dst.run(f"psql -X -q -v ON_ERROR_STOP=1 -c 'DROP DATABASE IF EXISTS {db} WITH (FORCE)' "
                     f"-c 'CREATE DATABASE {db}' -c '\\c {db}' -c 'CREATE EXTENSION timescaledb'",
                     user="postgres")

    def drop_db(self, db: str) -> None:
        self.dst.run(f"psql -X -q -c 'DROP DATABASE IF EXISTS {db} WITH (FORCE)'", user="postgres")

    def dump_task(self, name: str, db: str, jobs: int, data: bool = True) -> str:
        return f"""
    - name: {name}
      darkreach.dbfleet.supabase_dump:
        login_host: "{self.src.ip}"
        login_user: postgres
        login_password: "{POSTGRES_PW}"
        login_db: postgres
        ssl_mode: disable
        dest: /var/tmp/bench-{db}
        jobs: {jobs}
        data: {str(data).lower()}
        force: true"""

    def restore_task(self, name: str, db: str, jobs: int) -> str:
        return f"""
    - name: {name}
      darkreach.dbfleet.supabase_restore:
        {self.target(db)}
        src: /var/tmp/bench-{db}
        jobs: {jobs}"""

    def verify_task(self, db: str) -> str:
        return f"""
    - name: verify
      darkreach.dbfleet.cutover_verify:
        source: {self.source()}
        {self.target(db)}"""

    def sync_task(self, name: str, db: str, state: str, extra: str = "") -> str:
        return f"""
    - name: {name}
      darkreach.dbfleet.supabase_logical_sync:
        source: {self.source()}
        {self.target(db)}
        state: {state}
        wait_timeout: 7200
        {extra}"""

    def modules(self, jobs: int) -> dict:
        db = f"bench_j{jobs}"
        self.fresh_db(db)
        res, wall = self.play(self.dump_task("dump", db, jobs) + self.restore_task("restore", db, jobs)
                              + self.verify_task(db))
        self.dst.run(f"rm -rf /var/tmp/bench-{db}")
        self.drop_db(db)
        return dict(dump=res["dump"]["duration"], restore=res["restore"]["duration"],
                    verify=None, wall=wall, rows=res["verify"]["rows"],
                    identical=res["verify"]["identical"], dump_mb=res["dump"]["dump_bytes"] / 2**20)

    def plain(self) -> dict:
        db = "bench_plain"
        self.drop_db(db)
        self.dst.run(f"psql -X -q -c 'CREATE DATABASE {db}'", user="postgres")
        t0 = time.monotonic()
        script = (f"export PGPASSWORD='{POSTGRES_PW}'\n"  # on stdin, not on a command line
                  f"pg_dump -h {self.src.ip} -U postgres --schema=public postgres "
                  f"| env -u PGPASSWORD psql -X -q -d {db} 2>&1 | grep -c ERROR || true\n")
        res = self.dst.run("bash -s", user="postgres", stdin=script, timeout=7200)
        wall = time.monotonic() - t0
        self.drop_db(db)
        return dict(wall=wall, errors=int(res.stdout.strip() or 0))

    def logical(self) -> dict:
        db = "bench_logical"
        self.fresh_db(db)
        res, schema_wall = self.play(self.dump_task("schema dump", db, 2, data=False)
                                     + self.restore_task("schema restore", db, 2))
        writer = Writer(self.src.ip)
        writer.start()
        try:
            res, sync_wall = self.play(self.sync_task("present", db, "present")
                                       + self.sync_task("caught up", db, "synced"))
            caught = res["caught up"]
        finally:
            writer.finish()
        frozen = time.monotonic()
        res, final_wall = self.play(self.sync_task("final", db, "synced", "final: true")
                                    + self.sync_task("absent", db, "absent"))
        unfrozen_without_verify = time.monotonic()
        res2, verify_wall = self.play(self.verify_task(db))
        freeze = time.monotonic() - frozen
        self.dst.run(f"rm -rf /var/tmp/bench-{db}")
        self.drop_db(db)
        return dict(schema=schema_wall, sync=sync_wall, catchup=caught["waited"],
                    final_wait=res["final"]["waited"], freeze=freeze,
                    freeze_without_verify=unfrozen_without_verify - frozen,
                    identical=res2["verify"]["identical"], writes=writer.inserted,
                    verify=verify_wall)


class Writer(threading.Thread):
    """A light writer on the source during the logical sync (as the services would be)."""

    def __init__(self, host: str):
        super().__init__(daemon=True)
        self.conn = connect(host)
        self.conn.autocommit = True
        self.stop = threading.Event()
        self.inserted = 0

    def run(self) -> None:
        with self.conn.cursor() as cur:
            while not self.stop.is_set():
                cur.execute("INSERT INTO system_logs (level, source, message) VALUES "
                            "('info', 'coordinator', 'cutover benchmark')")
                self.inserted += 1
                time.sleep(0.02)

    def finish(self) -> None:
        self.stop.set()
        self.join(30)
        self.conn.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", default="bookworm", choices=sorted(SUITES))
    ap.add_argument("--size", default="bench", choices=["smoke", "bench"])
    ap.add_argument("--jobs", type=int, action="append")
    ap.add_argument("--keep", action="store_true", help="leave the containers running")
    ap.add_argument("--reuse", action="store_true",
                    help="use the containers a --keep run left (skips setting them up)")
    ap.add_argument("--skip", action="append", default=[], choices=["modules", "plain", "logical"],
                    help="leave out a part")
    args = ap.parse_args()
    jobs = args.jobs or [1, 2, 4]
    tmp = Path("/tmp/dbfleet-bench-cutover")
    tmp.mkdir(exist_ok=True)
    image, major = SUITES[args.suite]
    src, dst = Container(name=SRC, image=image), Container(name=DST)
    try:
        t0 = time.monotonic()
        if args.reuse:
            for c in (src, dst):
                c.ip = json.loads(labenv.podman("inspect", c.name).stdout)[0][
                    "NetworkSettings"]["Networks"][c.network]["IPAddress"]
                c._started = True
        else:
            src.start()
            dst.start()
            setup_server(dst)
            extra = ["-e", f"lab_supabase_datagen_size={args.size}"]
            proc = run_playbook(src, SUPABASE_PLAY, extra_args=tuple(extra), tmp_path=tmp, timeout=7200)
            if proc.returncode != 0:
                raise SystemExit(f"stand-in failed:\n{proc.stdout[-4000:]}")
        conn = connect(src.ip)
        with conn.cursor() as cur:
            cur.execute("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
                        "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'")
            size = int(cur.fetchone()[0])
        conn.close()
        print(f"source: PostgreSQL {major} stand-in, size {args.size}, public tables "
              f"{size / 2**20:.0f} MB on disk; target PostgreSQL 17 + TimescaleDB; "
              f"set up in {time.monotonic() - t0:.0f} s", flush=True)
        bench = Bench(src, dst, tmp)
        rows = []
        for n in ([] if "modules" in args.skip else jobs):
            r = bench.modules(n)
            rows.append((f"modules, {n} job(s)", r["dump"], r["restore"], r["wall"] - r["dump"] - r["restore"],
                         r["wall"], f"{r['rows']} rows, identical={r['identical']}, dump {r['dump_mb']:.0f} MB"))
            print(f"  done: {rows[-1]}", flush=True)
        modules_rows = list(rows)
        if "plain" not in args.skip:
            p = bench.plain()
            rows.append(("pg_dump | psql", None, None, None, p["wall"], f"{p['errors']} errors ignored, no verify"))
            print(f"  done: {rows[-1]}", flush=True)
        lg = None if "logical" in args.skip else bench.logical()
        print(f"  done: logical {lg}", flush=True)
        print()
        print(f"{'run':22} {'dump s':>8} {'restore s':>10} {'verify+ s':>10} {'wall s':>8}  notes")
        for name, d, r, v, w, note in rows:
            fmt = lambda x: f"{x:.1f}" if x is not None else "-"  # noqa: E731
            print(f"{name:22} {fmt(d):>8} {fmt(r):>10} {fmt(v):>10} {fmt(w):>8}  {note}")
        print("(verify+ = the playbook's wall time less dump and restore: verify and Ansible's overhead)")
        print()
        print(f"{'write freeze':22} {'s':>8}  what it covers")
        if modules_rows:
            best = min(modules_rows, key=lambda row: row[4])
            print(f"{'dump mode':22} {best[4]:>8.1f}  dump + restore + verify ({best[0]}), services stopped throughout")
        if lg is None:
            return 0
        print(f"{'logical mode':22} {lg['freeze']:>8.1f}  last LSN {lg['final_wait']:.2f} s, sequences, auth.users, "
              f"unsubscribe, verify (identical={lg['identical']})")
        print(f"{'logical, no verify':22} {lg['freeze_without_verify']:>8.1f}  the same without cutover_verify "
              f"({lg['verify']:.1f} s of it)")
        print(f"logical sync before the freeze: schema {lg['schema']:.1f} s, subscribe + catch-up "
              f"{lg['sync']:.1f} s (copy wait {lg['catchup']:.1f} s), {lg['writes']} rows written meanwhile")
        return 0
    finally:
        if not args.keep:
            src.remove()
            dst.remove()
            remove_network()


if __name__ == "__main__":
    sys.exit(main())
