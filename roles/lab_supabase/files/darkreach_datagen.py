#!/usr/bin/env python3
"""Fill the darkreach schema with deterministic (seeded) data, fast (COPY).

    darkreach_datagen.py DSN [--size smoke|bench] [--seed N] [--nodes N --days D]
                             [--truncate] [--json]

The same seed and sizes into an empty schema give the same rows (ids, uuids,
timestamps, values). Timestamps end at --end (default 2025-06-01T00:00:00Z) so
that the data does not depend on the day it is generated.

Sizes:
  smoke  seconds: 20 users, 8 nodes x 1 day of metric samples (~46k rows)
  bench  about 1 GB: 300 users, 100 nodes x 7 days of samples (~4M rows),
         500k primes, 400k log lines, 200k work blocks
--nodes / --days override the size's metric-sample fleet (N nodes x D days, four
metrics per node per minute).

Prints rows, COPY bytes and on-disk bytes per table, then totals with MB/s.
Exit codes: 0 done, 1 database error, 2 a request it cannot honour (bad seed or
size, tables not empty without --truncate).

Needs psycopg2 (Debian's python3-psycopg2, or psycopg2-binary).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import sys
import time
import uuid

try:
    import psycopg2
except ImportError:  # pragma: no cover - depends on the host
    print("darkreach_datagen: psycopg2 is missing (apt-get install python3-psycopg2, "
          "or pip install psycopg2-binary)", file=sys.stderr)
    sys.exit(2)

SIZES = {
    #         users projects workers jobs blocks/job primes   logs    agent_tasks memory nodes days
    "smoke": dict(users=20, projects=10, jobs=12, blocks_per_job=100, primes=2_000,
                  logs=5_000, agent_tasks=200, agent_memory=100, nodes=8, days=1),
    "bench": dict(users=300, projects=60, jobs=200, blocks_per_job=1_000, primes=500_000,
                  logs=400_000, agent_tasks=20_000, agent_memory=5_000, nodes=100, days=7),
}
MAX_SEED = 2**32 - 1
MAX_NODES = 5_000
MAX_DAYS = 3_650
MAX_SAMPLES = 200_000_000        # 4 per node-minute; about 40 GB on disk
SAMPLE_INTERVAL_S = 60
DEFAULT_END = "2025-06-01T00:00:00Z"

FORMS = ["factorial", "primorial", "kbn", "twin", "sophie_germain", "palindromic",
         "near_repdigit", "cullen_woodall", "wagstaff", "carol_kynea", "gen_fermat", "repunit"]
FORM_WEIGHTS = [6, 3, 30, 8, 8, 10, 6, 5, 2, 4, 15, 3]
PROOFS = ["prp", "pocklington", "morrison", "bls", "ecpp", "deterministic"]
LOG_SOURCES = ["coordinator", "worker", "sieve", "verifier", "scheduler", "api"]
LEVELS = ["debug", "info", "info", "info", "info", "warn", "error"]
AGENTS = ["planner", "researcher", "verifier", "reporter"]

# Tables the generator fills, in load order (parents before children).
TABLES = ["auth.users", "public.projects", "public.project_phases", "public.workers",
          "public.search_jobs", "public.work_blocks", "public.primes",
          "public.worker_commands", "public.metric_samples", "public.system_logs",
          "public.agent_tasks", "public.agent_memory"]


class Refused(Exception):
    """A request the generator cannot honour (exit 2)."""


def esc(text: str) -> str:
    """Escape a value for COPY's text format."""
    return (text.replace("\\", "\\\\").replace("\t", "\\t")
            .replace("\n", "\\n").replace("\r", "\\r"))


def js(obj) -> str:
    return esc(json.dumps(obj, separators=(",", ":"), sort_keys=True))


def ts(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat()


def rng_for(seed: int, table: str) -> random.Random:
    return random.Random(f"darkreach:{seed}:{table}")


def rand_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class CopyReader:
    """A file-like object COPY reads from; pulls text chunks from a generator."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._buf = b""
        self.bytes = 0

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buf) < size:
            try:
                chunk = next(self._chunks).encode()
            except StopIteration:
                break
            self._buf += chunk
        if size < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:size], self._buf[size:]
        self.bytes += len(out)
        return out

    readline = read


def batched(rows, n: int = 2_000):
    """Join rows (strings without newline) into chunks of n lines."""
    buf = []
    for row in rows:
        buf.append(row)
        if len(buf) >= n:
            yield "\n".join(buf) + "\n"
            buf = []
    if buf:
        yield "\n".join(buf) + "\n"


class Generator:
    def __init__(self, plan: dict, seed: int, end: float):
        self.p = plan
        self.seed = seed
        self.end = end
        self.start_1y = end - 365 * 86400
        r = rng_for(seed, "ids")
        self.user_ids = [rand_uuid(r) for _ in range(plan["users"])]
        self.project_ids = [rand_uuid(r) for _ in range(plan["projects"])]
        self.worker_ids = [f"node-{i:04d}" for i in range(1, plan["nodes"] + 1)]
        self.job_forms = []

    # -- platform and projects -------------------------------------------------
    def users(self):
        r = rng_for(self.seed, "users")
        for i, uid in enumerate(self.user_ids):
            created = self.start_1y + r.random() * 300 * 86400
            email = f"user{i:05d}@darkreach.test"
            meta = {"display_name": f"Prime Hunter {i}"}
            yield "\t".join([
                "00000000-0000-0000-0000-000000000000", uid, "authenticated", "authenticated",
                email, "$2a$10$" + "%053x" % r.getrandbits(212), ts(created + 600),
                js({"provider": "email", "providers": ["email"]}), js(meta),
                ts(created), ts(created + r.random() * 86400)])

    def projects(self):
        r = rng_for(self.seed, "projects")
        for i, pid in enumerate(self.project_ids):
            created = self.start_1y + r.random() * 200 * 86400
            yield "\t".join([
                pid, f"project-{i:04d}", f"Project {i}: {r.choice(FORMS)} search",
                esc(f"Search programme {i}\nowned by a volunteer"), r.choice(self.user_ids),
                "t" if r.random() < 0.4 else "f",
                r.choice(["draft", "active", "active", "paused", "completed", "archived"]),
                js({"budget_core_hours": r.randint(100, 100_000), "notify": r.random() < 0.5}),
                ts(created), ts(created + r.random() * 86400 * 30)])

    def project_phases(self):
        r = rng_for(self.seed, "project_phases")
        pid_seq = 0
        for pid in self.project_ids:
            for ordinal in range(1, r.randint(3, 6) + 1):
                pid_seq += 1
                started = self.start_1y + r.random() * 300 * 86400
                yield "\t".join([
                    str(pid_seq), pid, str(ordinal), f"Phase {ordinal}",
                    r.choice(["pending", "running", "done", "done", "failed", "skipped"]),
                    js({"target_digits": r.randint(1_000, 1_000_000)}),
                    ts(started), ts(started + r.random() * 30 * 86400)])

    def workers(self):
        r = rng_for(self.seed, "workers")
        for wid in self.worker_ids:
            reg = self.start_1y + r.random() * 100 * 86400
            yield "\t".join([
                wid, f"{wid}.fleet.darkreach.test", str(r.choice([2, 4, 8, 16, 32, 64])),
                f"0.{r.randint(8, 14)}.{r.randint(0, 9)}",
                r.choice(["idle", "searching", "searching", "searching", "verifying", "offline"]),
                js({"load": round(r.random() * 4, 2), "mem_mb": r.randint(512, 65536)}),
                ts(reg), ts(self.end - r.random() * 120)])

    # -- the search ------------------------------------------------------------
    def search_jobs(self):
        r = rng_for(self.seed, "search_jobs")
        bpj = self.p["blocks_per_job"]
        for jid in range(1, self.p["jobs"] + 1):
            form = r.choices(FORMS, FORM_WEIGHTS)[0]
            self.job_forms.append(form)
            block_size = r.choice([1_000, 5_000, 10_000])
            start = r.randint(0, 10**9)
            created = self.start_1y + (jid / (self.p["jobs"] + 1)) * 360 * 86400
            done = jid < self.p["jobs"] * 0.8
            yield "\t".join([
                str(jid), r.choice(self.project_ids) if r.random() < 0.7 else "\\N", form,
                js({"base": r.choice([2, 3, 5, 10]), "sieve_limit": r.randint(10**6, 10**9)}),
                str(start), str(start + block_size * bpj), str(block_size),
                "completed" if done else r.choice(["running", "running", "pending", "paused"]),
                str(r.randint(-5, 5)), str(bpj), str(bpj if done else 0),
                r.choice(self.user_ids), ts(created), ts(created + 3600),
                ts(created + 7 * 86400) if done else "\\N"])

    def work_blocks(self):
        r = rng_for(self.seed, "work_blocks")
        bpj = self.p["blocks_per_job"]
        bid = 0
        self.blocks_done = {}
        for jid in range(1, self.p["jobs"] + 1):
            done_job = jid < self.p["jobs"] * 0.8
            created = self.start_1y + (jid / (self.p["jobs"] + 1)) * 360 * 86400
            ndone = 0
            for k in range(bpj):
                bid += 1
                if done_job:
                    status = "completed"
                else:
                    x = r.random()
                    status = "completed" if x < 0.3 else "claimed" if x < 0.35 else "available"
                claimed = status != "available"
                ndone += status == "completed"
                t0 = created + 3600 + k * 60
                yield "\t".join([
                    str(bid), str(jid), str(k * 1000), str(k * 1000 + 1000), status,
                    r.choice(self.worker_ids) if claimed else "\\N",
                    ts(t0) if claimed else "\\N",
                    ts(t0 + r.random() * 600) if status == "completed" else "\\N",
                    "1" if claimed else "0",
                    str(r.randint(500, 1000)) if status == "completed" else "0",
                    str(int(r.random() < 0.02)) if status == "completed" else "0"])
            self.blocks_done[jid] = ndone

    def primes(self):
        r = rng_for(self.seed, "primes")
        counters = dict.fromkeys(FORMS, 0)
        n = self.p["primes"]
        for pid in range(1, n + 1):
            form = r.choices(FORMS, FORM_WEIGHTS)[0]
            counters[form] += 1
            c = counters[form]
            expr, digits = self._expression(r, form, c)
            found = self.start_1y + (pid / (n + 1)) * 365 * 86400 + r.random() * 60
            yield "\t".join([
                str(pid), form, expr, str(digits), str(r.randint(1, self.p["jobs"])),
                r.choice(self.worker_ids), r.choice(PROOFS), "t" if r.random() < 0.7 else "f",
                ts(found), js({"sieve_depth": r.randint(10**6, 10**12),
                               "tool": r.choice(["pfgw", "llr", "prst", "gwnum"])})])

    @staticmethod
    def _expression(r: random.Random, form: str, c: int) -> tuple[str, int]:
        if form == "factorial":
            n = 1000 + c
            return f"{n}!{'+' if c % 2 else '-'}1", max(1, int(math.lgamma(n + 1) / math.log(10)))
        if form == "primorial":
            n = 10_000 + 7 * c
            return f"{n}#{'+' if c % 2 else '-'}1", max(1, int(n / math.log(10)))
        if form in ("kbn", "twin", "sophie_germain", "cullen_woodall", "carol_kynea"):
            k, n = 2 * c + 1, r.randint(1_000, 3_000_000)
            sym = {"kbn": "+1", "twin": "+-1", "sophie_germain": "-1 (SG)",
                   "cullen_woodall": "+1 (C)", "carol_kynea": "-1 (CK)"}[form]
            return f"{k}*2^{n}{sym}", int(n * 0.30103 + math.log10(k)) + 1
        if form == "gen_fermat":
            b, e = 2 * c + 2, r.choice([2**i for i in range(10, 21)])
            return f"{b}^{e}+1", int(e * math.log10(b)) + 1
        if form == "palindromic":
            d = 2 * r.randint(500, 50_000) + 1
            return f"palindrome#{c}({d})", d
        if form == "near_repdigit":
            d = r.randint(1_000, 300_000)
            return f"10^{d}-{c}*10^{d // 2}-1", d
        if form == "wagstaff":
            p = 100_003 + 2 * c
            return f"(2^{p}+1)/3", int(p * 0.30103)
        n = 1000 + c  # repunit
        return f"R({n})", n

    def worker_commands(self):
        r = rng_for(self.seed, "worker_commands")
        for _ in range(len(self.worker_ids) * 5):
            created = self.end - r.random() * 30 * 86400
            delivered = r.random() < 0.9
            yield "\t".join([
                r.choice(self.worker_ids), r.choice(["pause", "resume", "drain", "restart", "update"]),
                js({"reason": "maintenance"}), ts(created),
                ts(created + r.random() * 10) if delivered else "\\N"])

    # -- telemetry -------------------------------------------------------------
    def metric_samples(self):
        r = rng_for(self.seed, "metric_samples")
        nodes = self.worker_ids
        minutes = self.p["days"] * 86400 // SAMPLE_INTERVAL_S
        t_begin = self.end - self.p["days"] * 86400
        node_form = {w: r.choice(FORMS) for w in nodes}
        label_cpu = js({"unit": "percent"})
        label_mem = js({"unit": "MiB"})
        label_form = {w: js({"form": node_form[w]}) for w in nodes}
        label_blocks = js({})
        load = {w: r.random() for w in nodes}
        rand = r.random
        for m in range(minutes):
            base = t_begin + m * SAMPLE_INTERVAL_S
            for w in nodes:
                stamp = ts(base + rand() * 2)
                lw = load[w] = min(1.0, max(0.0, load[w] + (rand() - 0.5) * 0.1))
                yield (f"{stamp}\t{w}\tcpu_percent\t{label_cpu}\t{lw * 100:.2f}\n"
                       f"{stamp}\t{w}\tmem_used_mb\t{label_mem}\t{2048 + rand() * 4096:.1f}\n"
                       f"{stamp}\t{w}\tcandidates_tested\t{label_form[w]}\t{int(lw * 5000 + rand() * 200)}\n"
                       f"{stamp}\t{w}\tblocks_completed\t{label_blocks}\t{int(rand() < lw * 0.5)}")

    def system_logs(self):
        r = rng_for(self.seed, "system_logs")
        n = self.p["logs"]
        span = self.p["days"] * 86400
        t_begin = self.end - span
        for i in range(n):
            t = t_begin + (i + r.random()) * span / n
            level = r.choice(LEVELS)
            src = r.choice(LOG_SOURCES)
            wid = r.choice(self.worker_ids) if src in ("worker", "sieve", "verifier") else "\\N"
            msg = {"debug": "sieve window advanced", "info": "block completed",
                   "warn": "heartbeat late", "error": "verification failed"}[level]
            yield "\t".join([ts(t), level, src, wid, esc(f"{msg} (#{i})"),
                             js({"seq": i, "latency_ms": r.randint(1, 2000)})])

    # -- agents ----------------------------------------------------------------
    def agent_tasks(self):
        r = rng_for(self.seed, "agent_tasks")
        ids = []
        for i in range(self.p["agent_tasks"]):
            tid = rand_uuid(r)
            parent = r.choice(ids) if ids and r.random() < 0.3 else "\\N"
            ids.append(tid)
            created = self.start_1y + (i / (self.p["agent_tasks"] + 1)) * 360 * 86400
            status = r.choice(["queued", "running", "waiting", "succeeded", "succeeded", "failed",
                               "cancelled"])
            finished = status in ("succeeded", "failed", "cancelled")
            yield "\t".join([
                tid, r.choice(self.project_ids), parent, f"Task {i}: investigate {r.choice(FORMS)}",
                esc("Plan the next search range\nand estimate cost"), r.choice(AGENTS), status,
                str(r.randint(-10, 10)), js({"form": r.choice(FORMS), "budget": r.randint(1, 100)}),
                js({"summary": f"result {i}"}) if finished else "\\N",
                str(r.randint(0, 200_000)), f"{r.random() * 5:.4f}", r.choice(self.user_ids),
                ts(created), ts(created + 60), ts(created + 5),
                ts(created + 300) if finished else "\\N"])

    def agent_memory(self):
        r = rng_for(self.seed, "agent_memory")
        for i in range(self.p["agent_memory"]):
            created = self.start_1y + r.random() * 360 * 86400
            yield "\t".join([
                str(i + 1), AGENTS[i % len(AGENTS)], f"memory/{i // len(AGENTS):06d}",
                js({"note": f"observation {i}", "weight": round(r.random(), 3)}),
                "%032x" % r.getrandbits(128), "\\N", ts(created), ts(created + 3600)])


COPY_SPECS = [
    # (table, columns, generator method, identity sequence to move past explicit ids)
    ("auth.users", "instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, "
     "raw_app_meta_data, raw_user_meta_data, created_at, updated_at", "users", None),
    ("public.projects", "id, slug, name, description, owner_id, is_public, status, config, "
     "created_at, updated_at", "projects", None),
    ("public.project_phases", "id, project_id, ordinal, name, status, goal, started_at, "
     "completed_at", "project_phases", "id"),
    ("public.workers", "id, hostname, cores, version, status, metrics, registered_at, "
     "last_heartbeat", "workers", None),
    ("public.search_jobs", "id, project_id, form, params, range_start, range_end, block_size, "
     "status, priority, blocks_total, blocks_done, created_by, created_at, started_at, "
     "completed_at", "search_jobs", "id"),
    ("public.work_blocks", "id, search_job_id, block_start, block_end, status, claimed_by, "
     "claimed_at, completed_at, attempts, tested, found", "work_blocks", "id"),
    ("public.primes", "id, form, expression, digits, search_job_id, worker_id, proof_method, "
     "verified, found_at, metadata", "primes", "id"),
    ("public.worker_commands", "worker_id, command, payload, created_at, delivered_at",
     "worker_commands", None),
    ("public.metric_samples", "ts, scope, metric, labels, value", "metric_samples", None),
    ("public.system_logs", "ts, level, source, worker_id, message, context", "system_logs", None),
    ("public.agent_tasks", "id, project_id, parent_id, title, description, agent, status, "
     "priority, input, output, tokens_used, cost_usd, created_by, created_at, updated_at, "
     "started_at, completed_at", "agent_tasks", None),
    ("public.agent_memory", "id, agent, key, value, token, expires_at, created_at, updated_at",
     "agent_memory", "id"),
]


def build_plan(args) -> dict:
    if not 0 <= args.seed <= MAX_SEED:
        raise Refused(f"seed {args.seed} is out of range: use an integer from 0 to {MAX_SEED}")
    plan = dict(SIZES[args.size])
    if args.nodes is not None:
        if not 1 <= args.nodes <= MAX_NODES:
            raise Refused(f"--nodes {args.nodes} cannot be honoured: use 1 to {MAX_NODES}")
        plan["nodes"] = args.nodes
    if args.days is not None:
        if not 1 <= args.days <= MAX_DAYS:
            raise Refused(f"--days {args.days} cannot be honoured: use 1 to {MAX_DAYS}")
        plan["days"] = args.days
    samples = plan["nodes"] * plan["days"] * 86400 // SAMPLE_INTERVAL_S * 4
    if samples > MAX_SAMPLES:
        raise Refused(f"{plan['nodes']} nodes x {plan['days']} days is {samples:,} metric "
                      f"samples, more than the {MAX_SAMPLES:,} this generator will write")
    plan["metric_samples"] = samples
    return plan


def parse_end(text: str) -> float:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Refused(f"--end {text!r} is not an ISO 8601 timestamp") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


def check_empty(cur, truncate: bool) -> None:
    filled = []
    for table in TABLES:
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608 - fixed names
        if cur.fetchone()[0]:
            filled.append(table)
    if not filled:
        return
    if not truncate:
        raise Refused(f"tables already hold rows ({', '.join(filled)}); the same seed only "
                      f"gives the same data in an empty schema: pass --truncate to empty them")
    cur.execute("TRUNCATE public.metric_rollups_hourly, public.metric_rollups_daily, "
                + ", ".join(t for t in TABLES if t != "auth.users")
                + ", public.profiles RESTART IDENTITY CASCADE")
    cur.execute("DELETE FROM auth.users")


def run(args) -> dict:
    plan = build_plan(args)
    end = parse_end(args.end)
    gen = Generator(plan, args.seed, end)
    try:
        conn = psycopg2.connect(args.dsn, application_name="darkreach_datagen")
    except psycopg2.Error as exc:
        raise ConnectionError(str(exc).strip()) from exc
    report = {"size": args.size, "seed": args.seed, "nodes": plan["nodes"], "days": plan["days"],
              "tables": {}}
    t_all = time.monotonic()
    copy_bytes = 0
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
            check_empty(cur, args.truncate)
            for table, columns, method, ident in COPY_SPECS:
                t0 = time.monotonic()
                reader = CopyReader(batched(getattr(gen, method)()))
                cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", reader, size=1 << 20)
                rows = cur.rowcount
                if ident:
                    cur.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), "
                                f"(SELECT coalesce(max({ident}), 0) + 1 FROM {table}), false)",
                                (table, ident))
                copy_bytes += reader.bytes
                report["tables"][table] = {"rows": rows, "copy_bytes": reader.bytes,
                                           "seconds": round(time.monotonic() - t0, 3)}
            # Job counters follow the blocks; profiles (trigger-made) get roles.
            cur.execute("UPDATE public.search_jobs j SET blocks_done = b.n FROM "
                        "(SELECT search_job_id, count(*) FILTER (WHERE status = 'completed') n "
                        "FROM public.work_blocks GROUP BY 1) b WHERE b.search_job_id = j.id")
            cur.execute("UPDATE public.profiles SET role = CASE WHEN right(id::text, 1) IN "
                        "('0', '1') THEN 'admin' WHEN right(id::text, 1) IN ('2', '3', '4', '5') "
                        "THEN 'operator' ELSE 'viewer' END")
            t0 = time.monotonic()
            cur.execute("SELECT public.rollup_metrics_hourly(%s::timestamptz, %s::timestamptz "
                        "+ interval '1 hour')", (ts(end - plan["days"] * 86400), ts(end)))
            hourly = cur.fetchone()[0]
            cur.execute("SELECT public.rollup_metrics_daily(%s::timestamptz, %s::timestamptz "
                        "+ interval '1 day')", (ts(end - plan["days"] * 86400), ts(end)))
            daily = cur.fetchone()[0]
            report["tables"]["public.metric_rollups_hourly"] = {
                "rows": hourly, "copy_bytes": 0, "seconds": round(time.monotonic() - t0, 3)}
            report["tables"]["public.metric_rollups_daily"] = {"rows": daily, "copy_bytes": 0,
                                                               "seconds": 0.0}
            cur.execute("SELECT count(*) FROM public.profiles")
            report["tables"]["public.profiles"] = {"rows": cur.fetchone()[0], "copy_bytes": 0,
                                                   "seconds": 0.0}
        with conn.cursor() as cur:
            conn.autocommit = True
            cur.execute("ANALYZE")
            total_disk = 0
            for table, info in report["tables"].items():
                cur.execute("SELECT pg_total_relation_size(%s::regclass)", (table,))
                info["disk_bytes"] = cur.fetchone()[0]
                total_disk += info["disk_bytes"]
    finally:
        conn.close()
    elapsed = time.monotonic() - t_all
    report["seconds"] = round(elapsed, 3)
    report["copy_bytes"] = copy_bytes
    report["disk_bytes"] = total_disk
    report["rows"] = sum(t["rows"] for t in report["tables"].values())
    report["copy_mb_per_s"] = round(copy_bytes / 1e6 / elapsed, 2)
    report["disk_mb_per_s"] = round(total_disk / 1e6 / elapsed, 2)
    return report


def print_report(report: dict) -> None:
    print(f"{'table':32} {'rows':>12} {'copy MB':>10} {'disk MB':>10} {'seconds':>8}")
    for table, t in report["tables"].items():
        print(f"{table:32} {t['rows']:>12,} {t['copy_bytes'] / 1e6:>10.1f} "
              f"{t['disk_bytes'] / 1e6:>10.1f} {t['seconds']:>8.2f}")
    print(f"{'total':32} {report['rows']:>12,} {report['copy_bytes'] / 1e6:>10.1f} "
          f"{report['disk_bytes'] / 1e6:>10.1f} {report['seconds']:>8.2f}")
    print(f"throughput: {report['copy_mb_per_s']} MB/s COPY text, "
          f"{report['disk_mb_per_s']} MB/s on disk (size={report['size']}, seed={report['seed']}, "
          f"{report['nodes']} nodes x {report['days']} days)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dsn", help="libpq DSN or URL of the darkreach database (connect as the "
                    "schema owner, postgres)")
    ap.add_argument("--size", choices=sorted(SIZES), default="smoke")
    ap.add_argument("--seed", type=int, default=42, help=f"0..{MAX_SEED} (default 42)")
    ap.add_argument("--nodes", type=int, help="simulated nodes sending metric samples")
    ap.add_argument("--days", type=int, help="days of metric samples and logs")
    ap.add_argument("--end", default=DEFAULT_END, help=f"newest timestamp (default {DEFAULT_END})")
    ap.add_argument("--truncate", action="store_true", help="empty the tables first")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)
    try:
        report = run(args)
    except Refused as exc:
        print(f"darkreach_datagen: refused: {exc}", file=sys.stderr)
        return 2
    except ConnectionError as exc:
        print(f"darkreach_datagen: cannot connect: {exc}", file=sys.stderr)
        return 1
    except psycopg2.Error as exc:
        print(f"darkreach_datagen: database error: {str(exc).strip()}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
