"""Pure logic of redis_fleet_status and the shared Redis connection code."""
from __future__ import annotations

from ansible_collections.darkreach.dbfleet.plugins.module_utils import dbfleet_redis
from ansible_collections.darkreach.dbfleet.plugins.modules import redis_fleet_status as m


def test_worker_ids_skip_subkeys_and_other_prefixes():
    keys = ["worker:2", "worker:10", "worker:1", "worker:1:cmd", "worker:", "stats:x",
            "worker:abc", "worker:2"]
    assert m.worker_ids(keys, "worker:") == ["1", "2", "10", "abc"]


def test_worker_ids_with_subkeys():
    assert m.worker_ids(["worker:1", "worker:1:cmd"], "worker:", exclude_subkeys=False) == \
        ["1", "1:cmd"]


def test_scan_pattern_escapes_glob_characters():
    assert m.scan_pattern("worker:") == "worker:*"
    assert m.scan_pattern("w[1]*?:") == "w\\[1\\]\\*\\?:*"


class FakeScanClient:
    """Stands in for the server's cursor protocol only (pages of keys)."""

    def __init__(self, pages):
        self.pages = pages
        self.calls = []

    def scan(self, cursor, match, count):
        self.calls.append((cursor, match, count))
        nxt = cursor + 1
        return (0 if nxt >= len(self.pages) else nxt), self.pages[cursor]


def test_scan_keys_follows_the_cursor_to_zero():
    client = FakeScanClient([["worker:1"], [], ["worker:2", "worker:3"]])
    keys, calls = m.scan_keys(client, "worker:*", 10)
    assert keys == ["worker:1", "worker:2", "worker:3"] and calls == 3
    assert client.calls[0] == (0, "worker:*", 10)


def test_connection_kwargs_plain_and_tls():
    base = dict(login_host="10.0.0.2", login_port=6379, login_user="monitor",
                login_password="pw", db=0, tls=False, validate_certs=True, ca_certs=None,
                client_cert_file=None, client_key_file=None, connect_timeout=5.0)
    kw = dbfleet_redis.connection_kwargs(base)
    assert kw["host"] == "10.0.0.2" and kw["username"] == "monitor" and kw["password"] == "pw"
    assert "ssl" not in kw
    kw = dbfleet_redis.connection_kwargs(dict(base, tls=True, ca_certs="/ca.pem",
                                              validate_certs=False, login_user="default"))
    assert kw["ssl"] is True and kw["ssl_ca_certs"] == "/ca.pem" and kw["ssl_cert_reqs"] == "none"
    assert "username" not in kw


def test_describe_endpoint_never_shows_the_password():
    text = dbfleet_redis.describe_endpoint(dict(login_host="h", login_port=1, login_user="u",
                                                login_password="s3cret", db=2))
    assert text == "u@h:1/2" and "s3cret" not in text
