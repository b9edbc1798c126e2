#!/usr/bin/env python3
"""Data generator throughput against a running stand-in: prints a table.

    benchmarks/datagen_throughput.py "host=198.18.x.y user=postgres password=... dbname=postgres" \
        [--case smoke] [--case "smoke --nodes 20 --days 7"] [--seed 42]

Each case runs darkreach_datagen.py with --truncate (it empties the darkreach tables:
only use it on a lab stand-in) and --json; the table shows rows, COPY and on-disk
megabytes, seconds and MB/s.
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

DATAGEN = Path(__file__).resolve().parent.parent / "roles/lab_supabase/files/darkreach_datagen.py"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dsn")
    ap.add_argument("--case", action="append", help="datagen arguments (default: smoke; "
                    "smoke --nodes 20 --days 7)")
    ap.add_argument("--seed", default="42")
    args = ap.parse_args()
    cases = args.case or ["--size smoke", "--size smoke --nodes 20 --days 7"]
    print(f"{'case':40} {'rows':>11} {'copy MB':>9} {'disk MB':>9} {'s':>7} "
          f"{'copy MB/s':>10} {'disk MB/s':>10}")
    for case in cases:
        cmd = [sys.executable, str(DATAGEN), args.dsn, *shlex.split(case), "--seed", args.seed,
               "--truncate", "--json"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            print(f"{case:40} failed: {res.stderr.strip()}")
            continue
        r = json.loads(res.stdout)
        print(f"{case:40} {r['rows']:>11,} {r['copy_bytes'] / 1e6:>9.1f} "
              f"{r['disk_bytes'] / 1e6:>9.1f} {r['seconds']:>7.1f} {r['copy_mb_per_s']:>10.2f} "
              f"{r['disk_mb_per_s']:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
