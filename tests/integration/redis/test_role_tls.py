"""The redis_sidecar role with TLS only (redis_sidecar_port: 0) on a fresh container,
then the fleet-status module over TLS from the control node.

The certificate authority and the server certificate (SAN = the container's address) are
made here with ``cryptography``; the role takes certificate files already on the host.
"""
from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import subprocess

import pytest
import yaml

from helpers.ansible import ansible_env, run_module
from helpers.containers import Container, labenv

pytestmark = pytest.mark.containers

CONTAINER_NAME = "dbfleet-t-redis-tls"
PASSWORDS = {
    "redis_sidecar_admin_password": "tls-admin-s3cret",
    "redis_sidecar_coordinator_password": "tls-coord-s3cret",
    "redis_sidecar_worker_password": "tls-worker-s3cret",
    "redis_sidecar_monitor_password": "tls-monitor-s3cret",
}


def make_certs(ip: str) -> dict[str, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dbfleet test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    # Python 3.13's ssl verifies strictly (VERIFY_X509_STRICT): the server certificate
    # must name its issuer's key.
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "redis")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(ip)),
                 x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return {
        "ca.pem": ca.public_bytes(pem),
        "server.pem": cert.public_bytes(pem),
        "server.key": key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()),
    }


@pytest.fixture(scope="module")
def tls_host():
    container = Container(name=CONTAINER_NAME)
    try:
        container.start()
        yield container
    finally:
        container.remove()


def recap(out: dict) -> dict:
    return out["stats"][CONTAINER_NAME]


def test_role_with_tls_only(tls_host, tmp_path):
    certs = make_certs(tls_host.ip)
    for name, data in certs.items():
        (tmp_path / name).write_bytes(data)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {CONTAINER_NAME: {
        "ansible_connection": "containers.podman.podman",
        "ansible_python_interpreter": "/usr/bin/python3"}}}}))
    role_vars = dict(PASSWORDS, redis_sidecar_tls=True, redis_sidecar_port=0,
                     redis_sidecar_tls_cert_file="/etc/ssl/dbfleet-test/server.pem",
                     redis_sidecar_tls_key_file="/etc/ssl/dbfleet-test/server.key",
                     redis_sidecar_tls_ca_file="/etc/ssl/dbfleet-test/ca.pem")
    play = [{
        "hosts": "all", "gather_facts": True, "vars": role_vars,
        "pre_tasks": [
            {"name": "Certificate directory", "ansible.builtin.file": {
                "path": "/etc/ssl/dbfleet-test", "state": "directory", "mode": "0755"}},
            {"name": "Certificates (test only: key readable by all)", "ansible.builtin.copy": {
                "src": str(tmp_path / "{{ item }}"), "dest": "/etc/ssl/dbfleet-test/{{ item }}",
                "mode": "0644"}, "loop": list(certs)},
        ],
        "roles": [{"role": "darkreach.dbfleet.redis_sidecar"}],
    }]
    play_path = tmp_path / "tls.yml"
    play_path.write_text(yaml.safe_dump(play, sort_keys=False))

    def converge():
        res = subprocess.run([str(labenv.VENV_BIN / "ansible-playbook"), "-i", str(inventory),
                              str(play_path)], env=ansible_env(), cwd=tmp_path, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=1200)
        assert "s3cret" not in res.stdout + res.stderr
        return json.loads(res.stdout)

    first = converge()
    assert recap(first)["failures"] == 0, first
    second = converge()
    assert recap(second)["failures"] == 0 and recap(second)["changed"] == 0

    # Plain TCP is closed (port 0); TLS answers and the probe works through it.
    with pytest.raises(OSError):
        socket.create_connection((tls_host.ip, 6379), timeout=5).close()
    res = run_module("redis_fleet_status", {
        "login_host": tls_host.ip, "login_port": 6380, "login_user": "monitor",
        "login_password": PASSWORDS["redis_sidecar_monitor_password"],
        "tls": True, "ca_certs": str(tmp_path / "ca.pem")}, workdir=tmp_path)
    assert not res.get("failed"), res.get("msg")
    assert res["count"] == 0
    # Without the CA the server certificate is not trusted.
    res = run_module("redis_fleet_status", {
        "login_host": tls_host.ip, "login_port": 6380, "login_user": "monitor",
        "login_password": PASSWORDS["redis_sidecar_monitor_password"], "tls": True},
        workdir=tmp_path)
    assert res.get("failed") and "certificate" in res["msg"].lower()
