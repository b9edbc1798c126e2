"""benchmarks/success_metrics.py: the table's layout, the ramp's verdict per step and the
simulator state it reads (the shape fleet_simulator.py writes to its state file)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
import success_metrics as sm  # noqa: E402

STATE = {"elapsed_s": 30.2, "acknowledged": {"heartbeat": 50, "heartbeat_redis": 150,
                                             "claim_work_block": 400, "complete_work_block": 390,
                                             "metric_samples": 200},
         "errors": {"total": 3, "claim_work_block": 3}, "last_error": "claim_work_block: boom",
         "latency": {"claim_work_block": {"count": 403, "p50_ms": 4.1, "p95_ms": 12.5}}}


def test_sim_summary_counts_postgresql_writes_only():
    s = sm.sim_summary(STATE)
    assert s["pg_tx"] == 50 + 400 + 390 + 200  # Redis heartbeats are not PostgreSQL writes
    assert (s["errors"], s["secs"], s["claim_p95"], s["claims"]) == (3, 30.2, 12.5, 403)


def test_a_step_holds_under_one_percent_errors_and_the_threshold():
    s = sm.sim_summary(STATE)
    ok, why = sm.holds(s, 500)
    assert ok and why.startswith("1040 tx, 3 errors (0.3%), claim p95 12 ms")
    assert not sm.holds(s, 10)[0]
    assert not sm.holds(dict(s, errors=20), 500)[0]
    assert not sm.holds(dict(s, claims=0, claim_p95=None), 500)[0]


def test_ramp_cell():
    assert sm.ramp_cell(0, True, 800) == "< 50"
    assert sm.ramp_cell(200, True, 800) == "200"
    assert sm.ramp_cell(800, False, 800) == ">= 800 (cap 800)"


def test_table_has_the_roadmap_layout_without_cost():
    results = {"standin": {k: f"s-{k}" for k, _ in sm.METRICS},
               "phase5": {k: f"p5-{k}" for k, _ in sm.METRICS}}
    lines = sm.table(results).splitlines()
    assert lines[0] == "| Metric | Supabase today (stand-in) | After Phase 5 (Patroni + PgBouncer) |"
    assert lines[1] == "|---|---|---|"
    assert [line.split(" | ")[0] for line in lines[2:]] == [f"| {label}" for _, label in sm.METRICS]
    assert lines[2] == "| Dashboard page queries p95 | s-dashboard | p5-dashboard |"
    assert not any("cost" in line.lower() for line in lines)
