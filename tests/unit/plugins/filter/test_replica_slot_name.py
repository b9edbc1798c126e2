"""plugins/filter/replica_slot_name.py: one slot-name formula for both sides (pure logic)."""
from __future__ import annotations

import pytest

from ansible_collections.darkreach.dbfleet.plugins.filter import replica_slot_name as mod


@pytest.mark.parametrize("host,expected", [
    ("pg2", "dbfleet_pg2"),
    ("PG-3.lab.example", "dbfleet_pg_3_lab_example"),
    ("dbfleet-mol-sr-replica", "dbfleet_dbfleet_mol_sr_replica"),
])
def test_slot_names(host, expected):
    assert mod.replica_slot_name(host) == expected


def test_prefix_is_used():
    assert mod.replica_slot_name("pg2", prefix="rs_") == "rs_pg2"


@pytest.mark.parametrize("prefix", ["Bad-", "x y", ""])
def test_bad_prefix_refused(prefix):
    with pytest.raises(mod.SlotNameError, match="prefix"):
        mod.replica_slot_name("pg2", prefix=prefix)


def test_too_long_names_the_host():
    with pytest.raises(mod.SlotNameError, match="h" * 60):
        mod.replica_slot_name("h" * 60)


def test_filter_raises_ansible_error():
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError):
        mod._filter("")
