"""Containers as test hosts: start a systemd container from the lab image, run
commands in it, remove it. Used by the pytest fixtures in tests/conftest.py.

All podman calls go through tools/labenv.py (CONTAINERS_CONF: runc, ulimits,
198.18.0.0/15 networks). Containers never get the Docker-user cgroup keys.
"""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import labenv  # noqa: E402

TEST_NETWORK = "dbfleet-test"
TEST_SUBNET = "198.18.2.0/24"


@dataclass
class Container:
    name: str
    image: str = labenv.DEFAULT_IMAGE
    network: str = TEST_NETWORK
    ip: str = ""
    _started: bool = field(default=False, repr=False)

    def start(self, timeout: float = 60) -> "Container":
        labenv.require_image(self.image)
        labenv.podman("rm", "-f", "--time", "0", self.name, check=False)
        labenv.APT_ARCHIVES.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            # Another test worker removes the shared network when its last container
            # goes; a run that lost that race re-creates the network and tries again.
            if self.network == TEST_NETWORK:
                labenv.ensure_network(self.network, TEST_SUBNET)
            run = labenv.podman("run", "-d", "--name", self.name, "--hostname", self.name,
                                "--network", self.network, "--systemd", "always",
                                "--tmpfs", "/tmp", "--tmpfs", "/run",
                                "-v", f"{labenv.APT_ARCHIVES}:/var/cache/apt/archives",
                                self.image, "/sbin/init", check=False)
            if run.returncode == 0:
                break
            labenv.podman("rm", "-f", "--time", "0", self.name, check=False)
            if attempt == 2 or "network" not in run.stderr:
                raise labenv.SetupError(f"podman run {self.name} failed: {run.stderr.strip()}")
        self._started = True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.run("systemctl is-system-running || true", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.5)
        else:
            raise TimeoutError(f"systemd in {self.name} did not come up: {state}")
        info = json.loads(labenv.podman("inspect", self.name).stdout)[0]
        self.ip = info["NetworkSettings"]["Networks"][self.network]["IPAddress"]
        return self

    def run(self, command: str, check: bool = True, timeout: float = 600,
            user: str | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
        args = ["exec", "-i"] if stdin is not None else ["exec"]
        if user:
            args += ["--user", user]
        cmd = [labenv.podman_path(), *args, self.name, "bash", "-c", command]
        res = subprocess.run(cmd, env=labenv.podman_env(), text=True, input=stdin,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if check and res.returncode != 0:
            raise AssertionError(f"[{self.name}] {command!r} exited {res.returncode}:\n"
                                 f"{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
        return res

    def apt_install(self, *packages: str, timeout: float = 900) -> None:
        self.run("export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && "
                 "apt-get install -y -qq --no-install-recommends "
                 + " ".join(shlex.quote(p) for p in packages), timeout=timeout)

    def stop(self, timeout: int = 10) -> None:
        labenv.podman("stop", "--time", str(timeout), self.name, check=False)

    def restart(self) -> None:
        labenv.podman("restart", self.name)

    def remove(self) -> None:
        if self._started:
            labenv.podman("rm", "-f", "--time", "0", self.name, check=False)
            self._started = False
            if self.network == TEST_NETWORK:
                remove_network()  # goes with the last container on it


def remove_network(name: str = TEST_NETWORK) -> None:
    # Not forced: a network still used by another run stays.
    labenv.podman("network", "rm", name, check=False)
