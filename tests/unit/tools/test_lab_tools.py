"""The lab tools say what is missing and how to get it, instead of a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tools"))
import labenv  # noqa: E402


def tool(*args: str, env: dict | None = None, user: str | None = None):
    # The system python: the venv's may live where another user cannot read.
    cmd = ["/usr/bin/python3", str(ROOT / "tools" / args[0]), *args[1:]]
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    return subprocess.run(cmd, env=env or dict(os.environ), text=True, cwd="/",
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


def test_not_root_is_refused_with_a_message():
    res = tool("lab.py", "status", user="nobody")
    assert res.returncode == 2
    assert "must run as root" in res.stderr
    assert "Traceback" not in res.stderr


def test_missing_podman_is_named(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # nothing on PATH
    res = tool("lab.py", "status", env=env)
    assert res.returncode == 2
    assert "podman is not installed" in res.stderr and "make setup" in res.stderr
    assert "Traceback" not in res.stderr


def test_missing_image_says_how_to_build_it():
    with pytest.raises(labenv.SetupError, match=r"missing; build it with `make image`"):
        labenv.require_image("localhost/dbfleet-no-such-image:latest")


def test_network_with_other_subnet_is_refused():
    name = "dbfleet-t-unit-net"
    labenv.podman("network", "rm", name, check=False)
    labenv.podman("network", "create", "--subnet", "198.18.250.0/24", name)
    try:
        with pytest.raises(labenv.SetupError, match="expected 198.18.251.0/24"):
            labenv.ensure_network(name, "198.18.251.0/24")
    finally:
        labenv.podman("network", "rm", name, check=False)
