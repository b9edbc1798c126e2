"""Install what the lab and the tests need on this host, idempotently.

1. host packages from Debian (podman with runc, netavark/aardvark-dns, debootstrap, ...)
2. a Python >= 3.12 venv in .venv with requirements-dev.txt (ansible, molecule, ...)
3. the collection link .cache/collections/ansible_collections/darkreach/dbfleet
4. the lab's base images (tools/image.py), unless --no-images

Runs with the system python3 (standard library only). Safe to run again: it only
does what is missing.
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import labenv  # noqa: E402

HOST_PACKAGES = [
    "podman", "runc", "conmon", "netavark", "aardvark-dns", "containernetworking-plugins",
    "uidmap", "debootstrap", "rsync", "git", "make", "postgresql-client",
]
PYTHON_CANDIDATES = ["python3.13", "python3.12"]
PYENV_GLOB = ("/root/.pyenv/versions/3.13*/bin/python3", "/root/.pyenv/versions/3.12*/bin/python3")


def log(msg: str) -> None:
    print(f"[bootstrap] {msg}", flush=True)


def missing_packages() -> list[str]:
    extra = [] if shutil.which("npm") else ["nodejs", "npm"]  # PGlite (TimescaleDB TSL) tests
    res = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n",
                          *HOST_PACKAGES, *extra], text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    installed = {line.split()[0] for line in res.stdout.splitlines()
                 if line.endswith(" installed")}
    return [p for p in HOST_PACKAGES + extra if p not in installed]


def install_host_packages() -> None:
    missing = missing_packages()
    if not missing:
        log("host packages present")
        return
    if not shutil.which("apt-get"):
        labenv.die(f"missing host packages {', '.join(missing)} and no apt-get; "
                   "this tooling targets Debian 12/13")
    log(f"installing host packages: {' '.join(missing)}")
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]):
        res = subprocess.run(cmd, env=env, text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        if res.returncode != 0:
            labenv.die(f"`{' '.join(cmd)}` failed:\n{res.stdout[-2000:]}")


def find_python() -> str:
    import glob
    for pattern in PYENV_GLOB:
        found = sorted(glob.glob(pattern))
        if found:
            return found[-1]
    for name in PYTHON_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    labenv.die("no Python >= 3.12 found (ansible-core 2.21 needs it): install one "
               "(pyenv install 3.12, or Debian 13's python3) and run again")
    return ""


def ensure_venv() -> None:
    req = labenv.ROOT / "requirements-dev.txt"
    stamp = labenv.VENV / ".requirements.sha256"
    digest = hashlib.sha256(req.read_bytes()).hexdigest()
    if (labenv.VENV_BIN / "python").exists() and stamp.exists() and stamp.read_text() == digest:
        log("venv up to date")
        return
    if not (labenv.VENV_BIN / "python").exists():
        python = find_python()
        log(f"creating .venv with {python}")
        subprocess.run([python, "-m", "venv", str(labenv.VENV)], check=True)
    pip = [str(labenv.VENV_BIN / "python"), "-m", "pip", "install", "-q",
           "--disable-pip-version-check"]
    log("installing Python requirements (ansible, molecule, ansible-lint, ...)")
    res = subprocess.run([*pip, "-r", str(req)], text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    if res.returncode != 0:
        labenv.die(f"pip install failed:\n{res.stdout[-3000:]}")
    stamp.write_text(digest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-images", action="store_true", help="skip building base images")
    args = parser.parse_args(argv)
    labenv.require_root()
    start = time.monotonic()
    install_host_packages()
    ensure_venv()
    labenv.ensure_collection_link()
    labenv.APT_ARCHIVES.mkdir(parents=True, exist_ok=True)
    if not args.no_images:
        from image import main as build_images
        build_images([])
    log(f"ready in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
