"""plugins/filter/scram_verifier.py: PostgreSQL SCRAM-SHA-256 verifiers (pure logic)."""
from __future__ import annotations

import base64
import re

import pytest

from ansible_collections.darkreach.dbfleet.plugins.filter import scram_verifier as mod

# Made by PostgreSQL 17 (CREATE ROLE ... PASSWORD 'pencil-x1' under scram-sha-256).
POSTGRES_MADE = ("SCRAM-SHA-256$4096:EdrIindwolBHR9UKrbA2cA==$"
                 "6RT51NhJyR0srqrIcFudOoYnnKvX4hq6Eq6Jw2SuBlo=:"
                 "6s5kSveNoL8YSYYsfvBWPkERCA/Kj2DZxCEf8FaZkHg=")
FORMAT = re.compile(r"^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$")


def test_same_verifier_as_postgresql_for_its_salt():
    salt = base64.b64decode(POSTGRES_MADE.split("$")[1].split(":")[1])
    assert mod.verifier_with_salt("pencil-x1", salt, 4096) == POSTGRES_MADE


def test_stable_for_the_same_input_and_salted_by_the_seed():
    one = mod.scram_verifier("s3cret-pw", "admin")
    assert FORMAT.match(one)
    assert one == mod.scram_verifier("s3cret-pw", "admin")
    assert one != mod.scram_verifier("s3cret-pw", "stats")
    assert one != mod.scram_verifier("other-pw", "admin")


@pytest.mark.parametrize("password, iterations", [("", 4096), (None, 4096), ("pw", 1000)])
def test_refuses_bad_input(password, iterations):
    with pytest.raises(ValueError):
        mod.scram_verifier(password, "x", iterations)
