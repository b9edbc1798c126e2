"""Shared paths, environment and podman helpers for the dbfleet tools.

Every tool (bootstrap, image, lab, the pytest harness) takes its paths and the
podman environment from here, so there is one place that says how podman is run
on this host (LAB.md: runc, ulimits, 198.18.0.0/15 networks).
Standard library only: bootstrap imports it before the venv exists.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
VENV = ROOT / ".venv"
VENV_BIN = VENV / "bin"
CONTAINERS_CONF = ROOT / "tools" / "containers.conf"
# ansible_collections/darkreach/dbfleet -> the repository (a symlink), so the
# collection resolves by FQCN from a checkout without building it.
COLLECTIONS_DIR = CACHE / "collections"
APT_ARCHIVES = Path(os.environ.get("DBFLEET_APT_ARCHIVES", "/var/cache/dbfleet/apt-archives"))

# Base images: name -> Debian suite. trixie carries PostgreSQL 17 + TimescaleDB,
# Patroni, etcd, ...; bookworm carries PostgreSQL 15 (the Supabase stand-in).
IMAGES = {
    "localhost/dbfleet-trixie:latest": "trixie",
    "localhost/dbfleet-bookworm:latest": "bookworm",
}
DEFAULT_IMAGE = "localhost/dbfleet-trixie:latest"
DEBIAN_MIRROR = os.environ.get("DBFLEET_DEBIAN_MIRROR", "http://deb.debian.org/debian")
IMAGE_PACKAGES = ["python3", "python3-apt", "systemd", "systemd-sysv", "dbus", "iproute2",
                  "sudo", "ca-certificates", "procps", "less", "gnupg"]

LAB_NETWORK = "dbfleet-lab"
LAB_SUBNET = "198.18.0.0/24"


class SetupError(RuntimeError):
    """A missing prerequisite, with what to do about it."""


def die(message: str, code: int = 2) -> None:
    print(f"dbfleet: {message}", file=sys.stderr)
    raise SystemExit(code)


def require_root() -> None:
    if os.geteuid() != 0:
        die("must run as root: podman runs rootful here and host packages are installed "
            "with apt-get (try: sudo make ...)")


def podman_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = str(CONTAINERS_CONF)
    env["ANSIBLE_COLLECTIONS_PATH"] = ansible_collections_path()
    env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    if extra:
        env.update(extra)
    return env


def ansible_collections_path() -> str:
    """Our checkout first, then the collections that PyPI's `ansible` ships."""
    return str(COLLECTIONS_DIR)


def ensure_collection_link() -> None:
    link = COLLECTIONS_DIR / "ansible_collections" / "darkreach" / "dbfleet"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and link.resolve() == ROOT:
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(ROOT, target_is_directory=True)


def podman_path() -> str:
    path = shutil.which("podman")
    if not path:
        raise SetupError("podman is not installed; run `make setup` (installs podman, runc, "
                         "netavark, aardvark-dns from Debian) or `apt-get install podman runc`")
    return path


def podman(*args: str, check: bool = True, capture: bool = True,
           timeout: float | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run podman; ``env`` adds variables to podman's own environment (where `exec -e NAME`
    takes a value from without putting it on a command line)."""
    cmd = [podman_path(), *args]
    result = subprocess.run(cmd, env=podman_env(env), text=True, timeout=timeout,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.PIPE if capture else None)
    if check and result.returncode != 0:
        raise SetupError(f"`podman {' '.join(args)}` failed ({result.returncode}): "
                         f"{(result.stderr or '').strip()}")
    return result


def image_exists(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


def require_image(name: str = DEFAULT_IMAGE) -> None:
    if not image_exists(name):
        raise SetupError(f"container image {name} is missing; build it with "
                         f"`make image` (debootstrap + podman import, about a minute)")


def ensure_network(name: str, subnet: str) -> None:
    if podman("network", "exists", name, check=False).returncode == 0:
        info = json.loads(podman("network", "inspect", name).stdout)[0]
        subnets = [s.get("subnet") for s in info.get("subnets", [])]
        if subnet not in subnets:
            raise SetupError(f"network {name} exists with subnets {subnets}, expected {subnet}; "
                             f"remove it with `podman network rm {name}`")
        return
    created = podman("network", "create", "--subnet", subnet, name, check=False)
    # Two test workers may create it at the same moment: the loser finds it made.
    if created.returncode != 0 and podman("network", "exists", name, check=False).returncode:
        raise SetupError(f"`podman network create {name}` failed: {created.stderr.strip()}")


def container_names() -> list[str]:
    out = podman("ps", "-a", "--format", "{{.Names}}").stdout
    return [line for line in out.splitlines() if line]
