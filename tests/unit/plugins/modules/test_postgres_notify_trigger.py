"""postgres_notify_trigger: the function body and trigger type it compares with (pure logic).
Its real behaviour (a LISTEN client receiving rows, idempotence, check mode, refusals) is
tested against the Supabase stand-in in tests/integration/phases/test_phase6.py."""
from __future__ import annotations

from ansible_collections.darkreach.dbfleet.plugins.modules import postgres_notify_trigger as mod


def test_body_sends_the_columns_in_order_and_falls_back_to_the_first():
    body = mod.function_body(["id", "form", "digits"], "darkreach_new_prime")
    assert "'id', r.\"id\", 'form', r.\"form\", 'digits', r.\"digits\"" in body
    assert "pg_notify('darkreach_new_prime', payload)" in body
    assert "octet_length(payload) > 7999" in body
    assert "'id', r.\"id\", 'truncated', true" in body


def test_body_is_stable_so_a_rerun_compares_equal():
    assert mod.function_body(["id"], "c") == mod.function_body(["id"], "c")
    assert mod.function_body(["id"], "c") != mod.function_body(["id", "form"], "c")


def test_trigger_type_bits_match_postgresql():
    # FOR EACH ROW = 1, INSERT = 4, DELETE = 8, UPDATE = 16; AFTER has no bit
    assert mod.trigger_type(["INSERT"]) == 5
    assert mod.trigger_type(["INSERT", "UPDATE"]) == 21
    assert mod.trigger_type(["INSERT", "DELETE", "UPDATE"]) == 29


def test_default_name_fits_an_identifier():
    assert mod.default_name("primes", "darkreach_new_prime") == "primes_notify_darkreach_new_prime"
    assert len(mod.default_name("t" * 60, "c" * 60)) == 63
