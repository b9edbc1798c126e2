"""replication_lag_info: joining replicas with slots, and the problems it reports (pure logic).
The module's real behaviour is tested against a real primary and standby in
molecule/streaming_replica/verify.yml."""
from __future__ import annotations

from ansible_collections.darkreach.dbfleet.plugins.modules import replication_lag_info as mod

ROWS = [("dbfleet_pg2", "198.18.0.12", "streaming", "async", 0, None, None, None),
        ("dbfleet_pg3", "198.18.0.13", "catchup", "async", 81920, 2.5, 0.1, 0.2)]
SLOTS = [("dbfleet_pg2", True, "reserved", 376), ("dbfleet_gone", False, "extended", 10**9)]


def test_replicas_join_their_slots_and_idle_lag_is_zero():
    replicas, slots = mod.replica_entries(ROWS, SLOTS)
    pg2, pg3 = replicas
    assert pg2["streaming"] and pg2["lag_seconds"] == 0.0
    assert pg2["slot"] == {"name": "dbfleet_pg2", "active": True, "wal_status": "reserved",
                           "retained_bytes": 376}
    assert not pg3["streaming"] and pg3["lag_seconds"] == 2.5 and pg3["slot"] is None
    assert [s["name"] for s in slots] == ["dbfleet_pg2", "dbfleet_gone"]


def test_unknown_replay_lag_with_bytes_behind_stays_unknown():
    replicas, _ = mod.replica_entries([("r", "a", "streaming", "async", 100, None, None, None)], [])
    assert replicas[0]["lag_seconds"] is None


def test_problems_name_each_replica():
    replicas, _ = mod.replica_entries(ROWS, SLOTS)
    problems = mod.problems_of(replicas, None, ["dbfleet_pg2", "dbfleet_pg3", "dbfleet_pg4"],
                               3, 4096, 1.0)
    assert "replica dbfleet_pg3 is catchup, not streaming" in problems
    assert "replica dbfleet_pg4 is not connected" in problems
    assert "1 replica(s) streaming, at least 3 expected" in problems
    assert any(p.startswith("dbfleet_pg3 is 81920 bytes behind") for p in problems)
    assert any(p.startswith("dbfleet_pg3 lags 2.500 s") for p in problems)
    assert not any(p.startswith("dbfleet_pg2") for p in problems)


def test_no_thresholds_no_problems():
    replicas, _ = mod.replica_entries(ROWS, SLOTS)
    assert mod.problems_of(replicas, None, [], 0, None, None) == []


def test_standby_lag_threshold():
    standby = dict(receiver_status="streaming", sender_host="pg1", lag_bytes=0, lag_seconds=7.0,
                   replay_paused=True)
    assert mod.problems_of([], standby, [], 0, None, 5) == ["this standby lags 7.000 s (more than 5 s)"]
