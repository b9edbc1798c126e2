"""The patroni_etcd role's DCS timing presets obey Patroni 4's own rules (patroni/config.py,
_validate_and_adjust_timeouts): ttl >= 20, loop_wait >= 1, retry_timeout >= 3 and
loop_wait + 2 * retry_timeout <= ttl. Patroni does not refuse a preset that breaks them: it
silently changes the values, and the preset would not be what its name says."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
PRESETS = yaml.safe_load((ROOT / "roles/patroni_etcd/vars/main.yml").read_text())["_patroni_etcd_presets"]


def test_the_three_presets_exist():
    assert set(PRESETS) == {"fast", "default", "safe"}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_is_taken_by_patroni_as_written(name):
    p = PRESETS[name]
    assert p["ttl"] >= 20 and p["loop_wait"] >= 1 and p["retry_timeout"] >= 3, p
    assert p["loop_wait"] + 2 * p["retry_timeout"] <= p["ttl"], p


def test_fast_renews_its_lease_most_often():
    assert PRESETS["fast"]["loop_wait"] == min(p["loop_wait"] for p in PRESETS.values())
    assert PRESETS["fast"]["ttl"] == min(p["ttl"] for p in PRESETS.values())
