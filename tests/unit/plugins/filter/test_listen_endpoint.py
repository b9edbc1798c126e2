"""plugins/filter/listen_endpoint.py: one listen-address rule for the exporters and Prometheus."""
from __future__ import annotations

import pytest

from ansible_collections.darkreach.dbfleet.plugins.filter import listen_endpoint as mod


@pytest.mark.parametrize("address,default,expected", [
    ("", "198.18.16.5", "198.18.16.5:9127"),
    (None, "198.18.16.5", "198.18.16.5:9127"),
    ("10.1.2.3", "198.18.16.5", "10.1.2.3:9127"),
    (" 10.1.2.3 ", "", "10.1.2.3:9127"),
    ("fd00::5", "", "[fd00::5]:9127"),
    ("[fd00::5]", "", "[fd00::5]:9127"),
    ("pgb1.internal", "", "pgb1.internal:9127"),
])
def test_private_addresses(address, default, expected):
    assert mod.listen_endpoint(address, 9127, default=default, prefix="pgbouncer_exporter") == expected


@pytest.mark.parametrize("address,default", [
    ("0.0.0.0", "198.18.16.5"), ("::", ""), ("[::]", ""), ("*", ""), ("", ""), (None, None)])
def test_every_interface_refused_without_the_opt_in(address, default):
    with pytest.raises(mod.ListenEndpointError) as exc:
        mod.listen_endpoint(address, 9187, default=default, prefix="postgres_exporter")
    msg = str(exc.value)
    assert msg.startswith("postgres_exporter: would listen on every interface")
    assert "postgres_exporter_listen_address" in msg and "postgres_exporter_listen_all_allowed" in msg


def test_no_address_found_is_said():
    with pytest.raises(mod.ListenEndpointError, match=r"\(no address found\)"):
        mod.listen_endpoint("", 9090, default="", prefix="prometheus_server")


@pytest.mark.parametrize("address,allow,expected", [
    ("0.0.0.0", True, "0.0.0.0:9127"),
    ("::", True, "[::]:9127"),
    ("[::]", "yes", "[::]:9127"),
    ("*", "true", ":9127"),
    ("", True, ":9127"),
])
def test_every_interface_with_the_opt_in(address, allow, expected):
    assert mod.listen_endpoint(address, 9127, allow_all=allow, prefix="pgbouncer_exporter") == expected


@pytest.mark.parametrize("allow", ["false", "no", False, 0])
def test_false_strings_do_not_opt_in(allow):
    with pytest.raises(mod.ListenEndpointError, match="every interface"):
        mod.listen_endpoint("0.0.0.0", 9127, allow_all=allow, prefix="pgbouncer_exporter")


def test_a_non_boolean_opt_in_is_refused():
    with pytest.raises(mod.ListenEndpointError, match="pgbouncer_exporter_listen_all_allowed is 'perhaps'"):
        mod.listen_endpoint("0.0.0.0", 9127, allow_all="perhaps", prefix="pgbouncer_exporter")


@pytest.mark.parametrize("port", [0, 65536, "x", None, True, -1])
def test_bad_ports_refused(port):
    with pytest.raises(mod.ListenEndpointError, match="not a TCP port"):
        mod.listen_endpoint("10.0.0.1", port, prefix="pgbouncer_exporter")


def test_port_as_string():
    assert mod.listen_endpoint("10.0.0.1", "9127", prefix="pgbouncer_exporter") == "10.0.0.1:9127"


@pytest.mark.parametrize("prefix", [None, "", "Bad-Prefix"])
def test_prefix_required(prefix):
    with pytest.raises(mod.ListenEndpointError, match="prefix"):
        mod.listen_endpoint("10.0.0.1", 9127, prefix=prefix)


def test_a_non_string_address_is_refused():
    with pytest.raises(mod.ListenEndpointError, match="not an address"):
        mod.listen_endpoint(["10.0.0.1"], 9127, prefix="pgbouncer_exporter")


def test_filter_raises_ansible_error():
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match="every interface"):
        mod._filter("0.0.0.0", 9127, prefix="pgbouncer_exporter")
