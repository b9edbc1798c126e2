"""redis_fleet_status against a real Redis 8 (Debian 13) with ACL users."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.containers


def heartbeat(client, ids, ttl=60):
    pipe = client.pipeline(transaction=False)
    for wid in ids:
        pipe.set(f"worker:{wid}", json.dumps({"id": wid, "cores": 4}), ex=ttl)
    pipe.execute()


def test_counts_active_workers_and_leaves_out_subkeys(redis_admin, run_module):
    heartbeat(redis_admin, [1, 2, 3, 10])
    redis_admin.set("worker:2:cmd", "stop", ex=60)
    redis_admin.set("worker:3:rate", 5, ex=60)
    redis_admin.set("stats:dashboard", "{}")          # outside worker:*
    redis_admin.set("worker*:odd", "x")                # glob chars are literal in the prefix

    res = run_module("redis_fleet_status", {})
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is False
    assert res["count"] == 4
    assert res["workers"] == ["1", "2", "3", "10"]
    assert res["keys_scanned"] == 6
    assert res["scan_calls"] >= 1
    assert res["latency_ms"] >= 0 and res["ping_ms"] >= 0


def test_check_mode_reads_the_same(redis_admin, run_module):
    heartbeat(redis_admin, ["a", "b"])
    res = run_module("redis_fleet_status", {}, check=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is False and res["workers"] == ["a", "b"]
    assert redis_admin.dbsize() == 2  # nothing written


def test_scan_walks_a_large_keyspace_in_many_calls(redis_admin, run_module):
    # The monitor user has no KEYS (-@dangerous): the count proves SCAN did the walk.
    heartbeat(redis_admin, range(2500))
    pipe = redis_admin.pipeline(transaction=False)
    for i in range(1500):
        pipe.set(f"cache:{i}", "x")
    pipe.execute()
    res = run_module("redis_fleet_status", {"scan_count": 100})
    assert not res.get("failed"), res.get("msg")
    assert res["count"] == 2500
    assert res["workers"][:3] == ["0", "1", "2"] and res["workers"][-1] == "2499"
    assert res["scan_calls"] > 10


def test_reports_heartbeats_without_ttl(redis_admin, run_module):
    heartbeat(redis_admin, [1, 2])
    redis_admin.set("worker:3", "{}")  # no EX: never expires
    res = run_module("redis_fleet_status", {"with_ttl": True})
    assert res["count"] == 3 and res["without_ttl"] == ["3"]


def test_worker_user_may_not_scan(redis_admin, run_module):
    res = run_module("redis_fleet_status", {}, user="worker")
    assert res.get("failed")
    assert "permission" in res["msg"] and "worker@" in res["msg"]


def test_wrong_password_is_a_clear_error(redis_server, run_module):
    res = run_module("redis_fleet_status", {}, password="not-the-password")
    assert res.get("failed")
    assert "authentication" in res["msg"] and "monitor@" in res["msg"]
    assert "not-the-password" not in json.dumps(res)


def test_no_password_is_refused_by_the_server(redis_server, run_module):
    res = run_module("redis_fleet_status", {"login_user": "default"}, password="")
    assert res.get("failed")
    assert "NOAUTH" in res["msg"] or "authentication" in res["msg"].lower()


def test_min_workers_fails_the_probe(redis_admin, run_module):
    heartbeat(redis_admin, [1])
    res = run_module("redis_fleet_status", {"min_workers": 2})
    assert res.get("failed") and "fewer than min_workers=2" in res["msg"]
    assert res["count"] == 1


def test_bad_arguments_are_refused(redis_server, run_module):
    res = run_module("redis_fleet_status", {"prefix": ""})
    assert res.get("failed") and "prefix must not be empty" in res["msg"]
    res = run_module("redis_fleet_status", {"scan_count": 0})
    assert res.get("failed") and "scan_count" in res["msg"]


def test_unreachable_server_is_a_clear_error(run_module):
    res = run_module("redis_fleet_status", {"login_port": 1, "connect_timeout": 3})
    assert res.get("failed") and "unable to connect" in res["msg"]
