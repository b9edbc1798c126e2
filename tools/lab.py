"""The local container lab: one systemd container per host of inventories/lab/.

  python3 tools/lab.py up       create/start the containers, then run the lab playbooks
  python3 tools/lab.py hosts    create/start the containers only
  python3 tools/lab.py status   list the lab containers with their addresses
  python3 tools/lab.py down     remove the lab containers and network

Containers are named after their inventory host, labelled `dbfleet.lab=1`, and live on
network dbfleet-lab (198.18.0.0/24). A container of the same name without that label
is never touched. Run with the venv's python (the Makefile does).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import labenv  # noqa: E402

INVENTORY = labenv.ROOT / "inventories" / "lab" / "hosts.yml"
LABEL = "dbfleet.lab=1"
PLAYBOOKS = ["playbooks/lab_standins.yml", "playbooks/site.yml"]


def inventory_hosts() -> dict[str, str]:
    """host -> image, from `ansible-inventory --list`."""
    res = subprocess.run([str(labenv.VENV_BIN / "ansible-inventory"), "-i", str(INVENTORY),
                          "--list"], env=labenv.podman_env(), text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if res.returncode != 0:
        raise labenv.SetupError(f"cannot read {INVENTORY}: {res.stderr.strip()}")
    data = json.loads(res.stdout)
    hostvars = data.get("_meta", {}).get("hostvars", {})
    hosts: set[str] = set()
    for group, body in data.items():
        if group != "_meta" and isinstance(body, dict):
            hosts.update(body.get("hosts", []))
    return {h: hostvars.get(h, {}).get("dbfleet_lab_image", labenv.DEFAULT_IMAGE)
            for h in sorted(hosts)}


def lab_containers() -> dict[str, dict]:
    out = labenv.podman("ps", "-a", "--filter", f"label={LABEL}", "--format", "json").stdout
    return {c["Names"][0]: c for c in json.loads(out or "[]")}


def address(name: str) -> str:
    info = json.loads(labenv.podman("inspect", name).stdout)[0]
    return info["NetworkSettings"]["Networks"].get(labenv.LAB_NETWORK, {}).get("IPAddress", "")


def hosts_up() -> None:
    wanted = inventory_hosts()
    for image in set(wanted.values()):
        labenv.require_image(image)
    labenv.ensure_network(labenv.LAB_NETWORK, labenv.LAB_SUBNET)
    labenv.APT_ARCHIVES.mkdir(parents=True, exist_ok=True)
    existing = lab_containers()
    others = set(labenv.container_names()) - set(existing)
    for host, image in wanted.items():
        if host in others:
            raise labenv.SetupError(f"a container named {host} exists and is not part of the "
                                    "lab (no dbfleet.lab label); rename or remove it")
        if host in existing:
            if existing[host].get("State") != "running":
                labenv.podman("start", host)
            continue
        labenv.podman("run", "-d", "--name", host, "--hostname", host, "--label", LABEL,
                      "--network", labenv.LAB_NETWORK, "--systemd", "always",
                      "--tmpfs", "/tmp", "--tmpfs", "/run",
                      "-v", f"{labenv.APT_ARCHIVES}:/var/cache/apt/archives",
                      image, "/sbin/init")
        print(f"created {host} from {image}")
    for host in wanted:
        labenv.podman("exec", host, "systemctl", "is-system-running", "--wait", check=False,
                      timeout=120)


def status() -> None:
    conts = lab_containers()
    if not conts:
        print("the lab is not running (make lab)")
        return
    print(f"{'host':<14} {'state':<10} address")
    for name, c in sorted(conts.items()):
        print(f"{name:<14} {c.get('State', ''):<10} {address(name)}")
    print("\nReach a host:  podman exec -it <host> bash   (CONTAINERS_CONF=tools/containers.conf)")
    print("Run a playbook: .venv/bin/ansible-playbook playbooks/<phase>.yml   "
          "(the lab inventory is the default)")


def down() -> None:
    for name in lab_containers():
        labenv.podman("rm", "-f", "--time", "5", name)
        print(f"removed {name}")
    labenv.podman("network", "rm", "-f", labenv.LAB_NETWORK, check=False)


def run_playbooks(extra: list[str]) -> int:
    cmd = [str(labenv.VENV_BIN / "ansible-playbook"), "-i", str(INVENTORY), *PLAYBOOKS, *extra]
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=labenv.ROOT, env=labenv.podman_env()).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "hosts", "status", "down"])
    parser.add_argument("ansible_args", nargs=argparse.REMAINDER,
                        help="extra ansible-playbook arguments (after --)")
    args = parser.parse_args(argv)
    labenv.require_root()
    try:
        if args.action in ("up", "hosts"):
            hosts_up()
        if args.action == "up":
            rc = run_playbooks([a for a in args.ansible_args if a != "--"])
            status()
            return rc
        if args.action in ("hosts", "status"):
            status()
        if args.action == "down":
            down()
    except labenv.SetupError as exc:
        labenv.die(str(exc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
