"""postgres_write_probe: the longest pause between acknowledged writes (pure logic). Its
real behaviour (writes through PgBouncer across a switchover and a hard failover, with
every acknowledged write read back) is tested by molecule/patroni_ha's verify."""
from __future__ import annotations

from ansible_collections.darkreach.dbfleet.plugins.modules import postgres_write_probe as mod


def test_the_longest_gap_between_acknowledgements():
    assert mod.longest_gap(0.0, [0.1, 0.2, 5.2, 5.3], 5.4) == (5.0, 0.2)


def test_a_run_without_acknowledgements_is_one_pause():
    assert mod.longest_gap(10.0, [], 12.5) == (2.5, 10.0)


def test_the_start_and_the_end_count():
    assert mod.longest_gap(0.0, [3.0, 3.1], 3.2) == (3.0, 0.0)
    assert mod.longest_gap(0.0, [0.1, 0.2], 9.0) == (8.8, 0.2)
