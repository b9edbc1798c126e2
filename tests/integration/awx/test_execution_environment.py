"""execution-environment.yml: `ansible-builder create` writes a build context holding this
collection (built from the checkout), its dependency collections and the Python/system
requirements the collection declares in meta/execution-environment.yml. Building the
image needs the base image from a registry, which is not reachable here."""
from __future__ import annotations

import subprocess

import yaml

from helpers.ansible import ansible_env
from helpers.containers import ROOT, labenv

VERSION = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
TARBALL = f"darkreach-dbfleet-{VERSION}.tar.gz"


def run(*cmd: str, cwd) -> subprocess.CompletedProcess:
    res = subprocess.run([str(labenv.VENV_BIN / cmd[0]), *cmd[1:]], cwd=cwd, env=ansible_env(),
                         text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert res.returncode == 0, res.stdout[-4000:]
    return res


def test_ansible_builder_create(tmp_path):
    # A copy of the definition beside a fresh build of the collection, as a user has it
    # after `ansible-galaxy collection build --output-path dist`.
    work = tmp_path / "src"
    work.mkdir()
    (work / "execution-environment.yml").write_text((ROOT / "execution-environment.yml").read_text())
    run("ansible-galaxy", "collection", "build", str(ROOT), "--output-path", str(work / "dist"),
        cwd=tmp_path)
    context = tmp_path / "context"
    run("ansible-builder", "create", "-f", "execution-environment.yml", "--context", str(context),
        cwd=work)

    containerfile = (context / "Containerfile").read_text()
    assert "ansible-core==2.21.5" in containerfile and "ansible-runner" in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert (context / "_build" / "collections" / TARBALL).is_file()
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    names = {c["name"]: c.get("version") for c in galaxy["collections"]}
    assert f"collections/{TARBALL}" in names, "the EE does not install this collection's tarball"
    deps = yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"]
    for name, version in deps.items():
        assert names.get(name) == version, f"{name} {version} missing from the EE's collections"

    # What ansible-builder's introspection finds in the installed collection is what the
    # image gets: psycopg2 and redis with libpq.
    collections = tmp_path / "collections"
    run("ansible-galaxy", "collection", "install", "--no-deps", "--force", "-p", str(collections),
        str(work / "dist" / TARBALL), cwd=tmp_path)
    found = yaml.safe_load(run("python", str(context / "_build" / "scripts" / "introspect.py"),
                               "introspect", str(collections), cwd=tmp_path).stdout)
    python = " ".join(found["python"])
    system = " ".join(found["system"])
    assert "psycopg2" in python and "redis" in python
    assert "libpq [platform:rpm]" in system and "libpq-devel [platform:rpm compile]" in system
