"""playbooks/awx_configure.yml and playbooks/semaphore_configure.yml: syntax, their own
input checks, and a clear early failure naming the URL when no server answers (an unused
loopback port). No AWX or Semaphore server runs here (their images need a registry), so
the objects they create are not exercised against a real server."""
from __future__ import annotations

import socket
import subprocess

import pytest

from helpers.ansible import ansible_env
from helpers.containers import ROOT, labenv

AWX = "playbooks/awx_configure.yml"
SEMAPHORE = "playbooks/semaphore_configure.yml"
GOOD = {
    AWX: {"dbfleet_awx_token": "t0ken", "dbfleet_awx_scm_url": "https://git.example.invalid/dbfleet.git"},
    SEMAPHORE: {"dbfleet_semaphore_token": "t0ken",
                "dbfleet_semaphore_git_url": "https://git.example.invalid/dbfleet.git"},
}
URL_VAR = {AWX: "dbfleet_awx_url", SEMAPHORE: "dbfleet_semaphore_url"}
PING = {AWX: "/api/v2/ping/", SEMAPHORE: "/api/ping"}
NAME = {AWX: "AWX", SEMAPHORE: "Semaphore"}


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again: nothing listens there


def playbook(path: str, extravars: dict, *args: str) -> subprocess.CompletedProcess:
    cmd = [str(labenv.VENV_BIN / "ansible-playbook"), path, *args]
    for key, value in extravars.items():
        cmd += ["-e", f"{key}={value}"]
    res = subprocess.run(cmd, cwd=ROOT, env=ansible_env({"ANSIBLE_STDOUT_CALLBACK": "default"}),
                         text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    print(res.stdout[-5000:])
    res.flat = " ".join(res.stdout.split())
    return res


@pytest.mark.parametrize("path", [AWX, SEMAPHORE])
def test_syntax(path):
    assert playbook(path, {}, "--syntax-check").returncode == 0


@pytest.mark.parametrize("path", [AWX, SEMAPHORE])
def test_no_server_fails_early_naming_the_url(path):
    url = f"http://127.0.0.1:{unused_port()}"
    res = playbook(path, {URL_VAR[path]: url, **GOOD[path]})
    assert res.returncode != 0
    assert f"{NAME[path]} is not reachable at {url}{PING[path]}" in res.flat
    assert "Connection refused" in res.flat and "nothing was changed" in res.flat
    assert "changed=0" in res.flat


@pytest.mark.parametrize("path", [AWX, SEMAPHORE])
@pytest.mark.parametrize("override,message", [
    ({"url": "ftp://awx.example.invalid"}, "must be an http(s) URL (got ftp://awx.example.invalid)"),
    ({"token": ""}, "or dbfleet_{tool}_username and dbfleet_{tool}_password"),
    ({"timeout": "soon"}, "argument 'dbfleet_{tool}_timeout' is of type str and we were unable to convert to int"),
    ({"inventory": "/etc/hosts"}, "must be a path under inventories/"),
    ({"inventory": "inventories/nowhere/hosts.yml"}, "inventories/nowhere/hosts.yml does not exist in this checkout"),
])
def test_bad_input_is_refused_before_any_request(path, override, message):
    tool = "awx" if path == AWX else "semaphore"
    extravars = {URL_VAR[path]: f"http://127.0.0.1:{unused_port()}", **GOOD[path]}
    for key, value in override.items():
        name = {"url": URL_VAR[path], "token": f"dbfleet_{tool}_token",
                "timeout": f"dbfleet_{tool}_timeout",
                "inventory": "dbfleet_awx_inventory_source_path" if tool == "awx"
                else "dbfleet_semaphore_inventory_path"}[key]
        extravars[name] = value
    res = playbook(path, extravars)
    assert res.returncode != 0
    assert message.format(tool=tool) in res.flat
    assert "is not reachable" not in res.flat, "the inputs were not checked before the server"
