"""The Grafana dashboard shipped with roles/postgres_exporter: valid JSON whose queries, and
the alert rules' expressions, only use metrics that exist: the collection's custom queries
(dbfleet_*), the exporters' and Patroni's own metrics (lists captured from Debian 13's
packages in this directory), Prometheus' `up`."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import HERE, ROOT, render_template, role_defaults

DASHBOARD = ROOT / "roles" / "postgres_exporter" / "files" / "grafana" / "dbfleet-fleet.json"
QUERIES = ROOT / "roles" / "postgres_exporter" / "templates" / "queries.yaml.j2"
METRIC = re.compile(r"\b(?:dbfleet|pg|pgbouncer|patroni)_[a-z0-9_]+\b|\bup\b(?=\s*\{)")
STRING = re.compile(r'"[^"]*"')


def metrics_in(expr: str) -> set[str]:
    """Metric names in a PromQL expression (label values in quotes left out)."""
    return set(METRIC.findall(STRING.sub('""', expr)))


def custom_metrics() -> set[str]:
    """dbfleet_* as the exporter names them: <query>_<column> for every non-label column."""
    text = render_template(QUERIES, {"_postgres_exporter_extensions": ["pg_stat_statements", "timescaledb"],
                                     "postgres_exporter_db_name": "darkreach",
                                     "postgres_exporter_statements_limit": 20,
                                     "postgres_exporter_cache_seconds": 30})
    doc = yaml.safe_load(text)
    names = set()
    for query, spec in doc.items():
        for metric in spec["metrics"]:
            (column, attrs), = metric.items()
            if attrs["usage"] != "LABEL":
                names.add(f"{query}_{column}")
    return names


def listed(name: str) -> set[str]:
    return {line.strip() for line in (HERE / name).read_text().splitlines()
            if line.strip() and not line.startswith("#")}


def known_metrics() -> set[str]:
    return (custom_metrics() | listed("postgres_exporter_metrics.txt")
            | listed("pgbouncer_exporter_metrics.txt") | listed("patroni_metrics.txt") | {"up"})


def dashboard_exprs() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]


def test_dashboard_is_grafana_json():
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] == "dbfleet-fleet"
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    assert all(p.get("targets") for p in dash["panels"])
    assert {v["name"] for v in dash["templating"]["list"]} == {"datasource", "host"}


def test_custom_queries_define_the_metrics_the_alerts_need():
    assert {"dbfleet_replication_lag_seconds", "dbfleet_replication_lag_bytes",
            "dbfleet_activity_longest_transaction_seconds", "dbfleet_activity_longest_query_seconds",
            "dbfleet_connections_count", "dbfleet_statements_mean_seconds",
            "dbfleet_timescaledb_chunks", "dbfleet_timescaledb_compressed_chunks",
            "dbfleet_wal_size_bytes"} <= custom_metrics()


@pytest.mark.parametrize("topic", ["TPS", "connections", "pool", "lag", "statements", "chunks", "compression"])
def test_dashboard_covers(topic):
    needles = {"TPS": "pg_stat_database_xact_commit", "connections": "dbfleet_connections_count",
               "pool": "pgbouncer_pools_client_waiting_connections", "lag": "dbfleet_replication_lag_seconds",
               "statements": "dbfleet_statements_mean_seconds", "chunks": "dbfleet_timescaledb_chunks",
               "compression": "dbfleet_timescaledb_after_compression_bytes"}
    assert any(needles[topic] in e for e in dashboard_exprs())


def test_dashboard_queries_only_known_metrics():
    used = {m for e in dashboard_exprs() for m in metrics_in(e)}
    assert used, "no metric found in the dashboard"
    assert used - known_metrics() == set()


def test_alert_rules_only_use_known_metrics():
    rules_dir = ROOT / "roles" / "prometheus_server" / "templates" / "rules"
    used = set()
    for tpl in rules_dir.glob("*.j2"):
        doc = yaml.safe_load(render_template(tpl, role_defaults()))
        used |= {m for g in doc["groups"] for r in g["rules"] for m in metrics_in(r["expr"])}
    assert "dbfleet_replication_lag_seconds" in used
    assert used - known_metrics() == set()


def test_an_unknown_metric_would_be_caught():
    assert "dbfleet_replication_lag_second" not in known_metrics()
    assert metrics_in('rate(pg_stat_database_xact_comit{job="pg_x"}[5m])') == {"pg_stat_database_xact_comit"}
    assert metrics_in("rate(pg_stat_database_xact_comit[5m])") - known_metrics()
