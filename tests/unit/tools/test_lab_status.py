"""tools/lab.py status: the readers of Patroni's /cluster, the PgBouncer exporter's metrics
and `pgbackrest info`. The inputs have the shape of outputs captured from the lab after
`make lab` (trimmed to the fields the readers use); a lagging and a stopped member, a
differential backup and an empty stanza are added to cover those cases."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tools"))
import lab  # noqa: E402

CLUSTER = {"members": [
    {"name": "pg2", "role": "replica", "state": "streaming", "host": "pg2", "port": 5432,
     "timeline": 2, "lag": 0},
    {"name": "pg1", "role": "leader", "state": "running", "host": "pg1", "port": 5432,
     "timeline": 2},
    {"name": "pg3", "role": "replica", "state": "streaming", "host": "pg3", "port": 5432,
     "timeline": 2, "lag": 8192},
    {"name": "pg4", "role": "replica", "state": "stopped", "host": "pg4", "port": 5432,
     "lag": "unknown"}], "scope": "dbfleet"}

BACKREST = [{"backup": [
    {"info": {"size": 41740702}, "label": "20261207-045735F",
     "timestamp": {"start": 1796619455, "stop": 1796619462}, "type": "full"},
    {"info": {"size": 2097152}, "label": "20261207-045735F_20261207-051000D",
     "timestamp": {"start": 1796620200, "stop": 1796620203}, "type": "diff"}],
    "name": "main", "status": {"code": 0, "message": "ok"}},
    {"backup": [], "name": "other"}]


def test_patroni_rows_leader_first_with_lag_of_replicas_only():
    rows = lab.patroni_rows(CLUSTER)
    assert rows == [
        ("pg1", "leader", "running", "2", ""),
        ("pg2", "replica", "streaming", "2", "0 B"),
        ("pg3", "replica", "streaming", "2", "8192 B"),
        ("pg4", "replica", "stopped", "", "unknown"),
    ]


def test_pool_rows_from_exporter_metrics():
    metrics = "\n".join([
        "# HELP pgbouncer_pools_client_active_connections Client connections linked to server",
        "# TYPE pgbouncer_pools_client_active_connections gauge",
        'pgbouncer_pools_client_active_connections{database="postgres",user="postgres"} 4',
        'pgbouncer_pools_client_active_connections{database="postgres_ro",user="postgres"} 1',
        'pgbouncer_pools_client_waiting_connections{database="postgres",user="postgres"} 0',
        'pgbouncer_pools_server_active_connections{database="postgres",user="postgres"} 2',
        'pgbouncer_pools_server_idle_connections{database="postgres",user="postgres"} 3',
        'pgbouncer_pools_server_login_connections{database="postgres",user="postgres"} 0',
        'pgbouncer_databases_pool_size{database="postgres",host="127.0.0.1"} 20',
        "pgbouncer_up 1",
    ])
    assert lab.pool_rows(metrics) == {
        ("postgres", "postgres"): {"cl_active": "4", "cl_waiting": "0", "sv_active": "2", "sv_idle": "3"},
        ("postgres_ro", "postgres"): {"cl_active": "1"},
    }


def test_last_backup_is_the_newest_per_stanza():
    lines = lab.last_backups(BACKREST)
    assert lines[0].startswith("stanza main: diff 20261207-045735F_20261207-051000D, finished 2026-12-07 ")
    assert lines[0].endswith("2 MiB, 2 backup(s) in the repository")
    assert lines[1] == "stanza other: no backup yet"
