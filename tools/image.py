"""Build the lab's base images locally: debootstrap + `podman import`.

No registry is reachable on this host, so the image that a Docker user gets from
`containers/Containerfile` (FROM debian:trixie) is made here from Debian's mirror.
Usage: tools/image.py [--force] [--suite trixie|bookworm|all]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import labenv  # noqa: E402


def build(name: str, suite: str) -> float:
    if not shutil.which("debootstrap"):
        raise labenv.SetupError("debootstrap is missing; `make setup` installs it "
                                "(apt-get install debootstrap)")
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"dbfleet-{suite}-", dir="/var/tmp") as tmp:
        root = Path(tmp) / "rootfs"
        cmd = ["debootstrap", "--variant=minbase",
               "--include=" + ",".join(labenv.IMAGE_PACKAGES), suite, str(root),
               labenv.DEBIAN_MIRROR]
        print(f"+ {' '.join(cmd)}", flush=True)
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if res.returncode != 0:
            raise labenv.SetupError(f"debootstrap {suite} failed:\n{res.stdout[-3000:]}")
        # Slim and container-friendly: no apt lists, no units that fight a container.
        shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
        (root / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
        for unit in ("systemd-firstboot.service", "systemd-udevd.service",
                     "systemd-networkd-wait-online.service", "getty@tty1.service",
                     "systemd-resolved.service"):
            link = root / "etc/systemd/system" / unit
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to("/dev/null")
        (root / "etc/machine-id").write_text("")
        (root / "etc/apt/apt.conf.d/99dbfleet").write_text(
            'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n'
            'Acquire::Retries "3";\n')
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run([labenv.podman_path(), "import", "--change", 'CMD ["/sbin/init"]',
                              "--change", "STOPSIGNAL SIGRTMIN+3", "-", name],
                             stdin=tar.stdout, env=labenv.podman_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        tar.stdout.close()
        tar.wait()
        if imp.returncode != 0 or tar.returncode != 0:
            raise labenv.SetupError(f"podman import failed: {imp.stderr.strip()}")
    return time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if present")
    parser.add_argument("--suite", default="all", choices=["all", *labenv.IMAGES.values()])
    args = parser.parse_args(argv)
    labenv.require_root()
    try:
        for name, suite in labenv.IMAGES.items():
            if args.suite not in ("all", suite):
                continue
            if labenv.image_exists(name) and not args.force:
                print(f"image {name} present")
                continue
            took = build(name, suite)
            print(f"image {name} built from Debian {suite} in {took:.0f} s")
    except labenv.SetupError as exc:
        labenv.die(str(exc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
