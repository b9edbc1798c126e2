#!/usr/bin/env python3
"""pgBackRest backup and restore throughput to an S3-compatible object store.

    .venv/bin/python benchmarks/backup_throughput.py [--gb 1.0] [--process-max 2] [--keep]

Starts its own containers on a podman network inside 198.18.0.0/15 (an object store from
role lab_s3 - moto behind TLS - and a PostgreSQL 17 + TimescaleDB server from role
postgres_timescale with role pgbackrest), fills the database with about --gb GB (plain SQL:
rows of a prime-search-like table with a text payload), then times a full backup
(`pgbackrest backup --type=full`, compressed zst level 3 and encrypted aes-256-cbc) and a
restore into an empty data directory (`pgbackrest restore`, until the files are in place;
WAL replay and start are shown apart). Prints a table: database size, repository size,
seconds and MB/s (database MB per second). Removes its containers and network at the end
(--keep leaves them).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
import labenv  # noqa: E402
from tests.helpers.containers import Container  # noqa: E402

NETWORK = "dbfleet-t-backup-bench"
SUBNET = "198.18.41.0/24"
PG = "dbfleet-t-backup-bench-pg"
S3 = "dbfleet-t-backup-bench-s3"
SECRET = "bench-cipher-passphrase-not-a-secret"

PLAY = """
- hosts: {s3}
  gather_facts: true
  roles: [darkreach.dbfleet.lab_s3]
- hosts: {pg}
  gather_facts: false
  vars:
    postgres_timescale_databases: [{{name: darkreach, extensions: [timescaledb]}}]
    pgbackrest_s3_endpoint: {s3}
    pgbackrest_s3_bucket: dbfleet-backups
    pgbackrest_s3_uri_style: path
    pgbackrest_s3_key: "{{{{ hostvars['{s3}'].lab_s3_access_key_id }}}}"
    pgbackrest_s3_key_secret: "{{{{ hostvars['{s3}'].lab_s3_secret_access_key }}}}"
    pgbackrest_s3_ca_pem: "{{{{ hostvars['{s3}'].lab_s3_ca_pem }}}}"
    pgbackrest_cipher_pass: {secret}
    pgbackrest_initial_backup: false
    pgbackrest_process_max: {process_max}
  roles: [darkreach.dbfleet.postgres_timescale, darkreach.dbfleet.pgbackrest]
"""


def sh(container: Container, command: str, user: str | None = None, timeout: float = 3600) -> str:
    return container.run(command, user=user, timeout=timeout).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--process-max", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    labenv.ensure_network(NETWORK, SUBNET)
    hosts = [Container(S3, network=NETWORK), Container(PG, network=NETWORK)]
    try:
        for c in hosts:
            c.start()
        pg = hosts[1]
        with tempfile.TemporaryDirectory() as tmp:
            inv = Path(tmp) / "inventory.ini"
            inv.write_text(f"[all]\n{S3}\n{PG}\n[all:vars]\nansible_connection=containers.podman.podman\n")
            play = Path(tmp) / "play.yml"
            play.write_text(PLAY.format(s3=S3, pg=PG, secret=SECRET, process_max=args.process_max))
            env = labenv.podman_env({"ANSIBLE_NOCOLOR": "1"})
            labenv.ensure_collection_link()
            res = subprocess.run([str(labenv.VENV_BIN / "ansible-playbook"), "-i", str(inv), str(play)],
                                 env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 timeout=3600)
            if res.returncode:
                sys.exit("setup failed:\n" + res.stdout[-5000:])

        rows = int(args.gb * 1024 ** 3 / 600)  # about 600 bytes per row on disk with the payload
        t0 = time.monotonic()
        sh(pg, "psql -X -v ON_ERROR_STOP=1 -d darkreach -c \"CREATE TABLE bench_primes AS SELECT g AS id, "
               "g * 2 + 1 AS value, now() - g * interval '1 second' AS found_at, "
               f"repeat(md5(g::text), 16) AS payload FROM generate_series(1, {rows}) g\" "
               "-c CHECKPOINT", user="postgres")
        gen = time.monotonic() - t0
        db_bytes = int(sh(pg, "psql -X -A -t -c 'SELECT sum(pg_database_size(datname)) FROM pg_database'",
                          user="postgres"))
        cmd = "pgbackrest --config=/etc/pgbackrest/pgbackrest.conf --stanza=main --log-level-console=warn"

        t0 = time.monotonic()
        sh(pg, f"{cmd} backup --type=full", user="postgres")
        backup_s = time.monotonic() - t0
        info = json.loads(sh(pg, f"{cmd} info --output=json", user="postgres"))[0]
        last = info["backup"][-1]["info"]
        repo_bytes = last["repository"]["delta"]

        sh(pg, "systemctl stop postgresql@17-main")
        sh(pg, "rm -rf /var/lib/postgresql/17/main && install -d -o postgres -g postgres -m 0700 "
               "/var/lib/postgresql/17/main")
        t0 = time.monotonic()
        sh(pg, f"{cmd} restore --archive-mode=off --type=immediate --target-action=promote", user="postgres")
        restore_s = time.monotonic() - t0
        t0 = time.monotonic()
        sh(pg, "systemctl start postgresql@17-main")
        for _ in range(600):
            if sh(pg, "psql -X -A -t -c 'SELECT pg_is_in_recovery()' || true", user="postgres") == "f":
                break
            time.sleep(1)
        start_s = time.monotonic() - t0
        restored = int(sh(pg, "psql -X -A -t -d darkreach -c 'SELECT count(*) FROM bench_primes'",
                          user="postgres"))
        if restored != rows:
            sys.exit(f"restored {restored} rows, expected {rows}")

        mb = db_bytes / 1024 ** 2
        print(f"\npgBackRest 2.55 to moto S3 over TLS, zst-3 + aes-256-cbc, process-max {args.process_max}; "
              f"data generated in {gen:.0f} s")
        print(f"{'step':<28}{'database MB':>12}{'repo MB':>10}{'seconds':>10}{'MB/s':>9}")
        print(f"{'full backup':<28}{mb:>12.0f}{repo_bytes / 1024 ** 2:>10.0f}{backup_s:>10.1f}{mb / backup_s:>9.1f}")
        print(f"{'restore (files in place)':<28}{mb:>12.0f}{repo_bytes / 1024 ** 2:>10.0f}{restore_s:>10.1f}"
              f"{mb / restore_s:>9.1f}")
        print(f"{'start + recovery + promote':<28}{'':>12}{'':>10}{start_s:>10.1f}{'':>9}")
    finally:
        if not args.keep:
            for c in hosts:
                c.remove()
            labenv.podman("network", "rm", "-f", NETWORK, check=False)


if __name__ == "__main__":
    main()
