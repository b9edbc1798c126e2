"""Pure logic of the logical-replication cutover (module_utils/dbfleet_logical.py); the
catalog reads and the replication itself are tested for real in
tests/integration/cutover/test_logical_sync.py."""
from __future__ import annotations

import pytest

from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_logical import (
    conninfo_quote, replica_identity_problem, sequence_plan, subscription_conninfo)


@pytest.mark.parametrize("ident, pk, ri_index, problem", [
    ("d", True, False, None),
    ("f", False, False, None),
    ("i", False, True, None),
    ("d", False, False, "no primary key and no replica identity"),
    ("n", True, False, "REPLICA IDENTITY NOTHING"),
    ("i", True, False, "its replica identity index is gone"),
])
def test_replica_identity_problem(ident, pk, ri_index, problem):
    assert replica_identity_problem(ident, pk, ri_index) == problem


def test_conninfo_values_are_quoted_and_escaped():
    assert conninfo_quote("pa ss'w\\d") == "'pa ss\\'w\\\\d'"


def test_subscription_conninfo_masks_the_password_and_takes_an_override():
    params = dict(login_host="db.example.supabase.co", login_port=5432, login_user="postgres",
                  login_password="s3cret pw", login_db="postgres", ssl_mode="require",
                  ca_cert=None, connect_timeout=30, login_unix_socket="")
    real, masked = subscription_conninfo(params)
    assert "password='s3cret pw'" in real and "s3cret" not in masked
    assert "host='db.example.supabase.co'" in real and "sslmode='require'" in real
    real, masked = subscription_conninfo(params, host="198.18.0.9", port=6432)
    assert "host='198.18.0.9'" in real and "port='6432'" in masked


def test_sequence_plan_sets_only_what_differs_and_exists_on_the_target():
    source = {"public.a_seq": (10, True), "public.b_seq": (1, False), "public.c_seq": (5, True)}
    target = {"public.a_seq": (3, True), "public.b_seq": (1, False)}
    assert sequence_plan(source, target) == [("public.a_seq", 10, True)]
