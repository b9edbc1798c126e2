"""ansible-test sanity on the collection, from an ansible_collections/darkreach/dbfleet
copy of the working tree, and the built collection tarball installed into a fresh
collections path where every module and role resolves by FQCN."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import labenv  # noqa: E402

EXCLUDES = [".venv", ".cache", ".git", ".ansible", ".pytest_cache", "__pycache__",
            "tests/output", "*.tar.gz"]
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"  # the venv's python
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py")
                 if p.stem != "__init__")
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())


def run(cmd: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, cwd=cwd, env=env or labenv.podman_env(), text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=1800)
    print(res.stdout[-20000:])
    return res


def pip_bootstrap_for_ansible_test() -> None:
    """ansible-test fetches get-pip from a host this lab cannot reach; save our
    stand-in where ansible-test looks for a hand-saved copy."""
    import ansible_test._internal.python_requirements as pr  # type: ignore
    src = (ROOT / "tools" / "ansible_test_get_pip.py").read_text()
    version = None
    for line in Path(pr.__file__).read_text().splitlines():
        if line.strip().startswith("pip='"):
            version = line.split("'")[1]
    assert version, "cannot find the pip version ansible-test pins"
    cache = Path.home() / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / f"get_pip_{version.replace('.', '_')}.py").write_text(
        src.replace("@HOST_PYTHON@", str(labenv.VENV_BIN / "python")))


def collection_copy() -> Path:
    """A copy outside every git repository: inside one, ansible-test lists files through
    git, and .cache is ignored there, so it would find nothing to test."""
    import hashlib
    tag = hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]
    dest = Path("/var/tmp") / f"dbfleet-sanity-{tag}" / "ansible_collections" / "darkreach" / "dbfleet"
    dest.mkdir(parents=True, exist_ok=True)
    cmd = ["rsync", "-a", "--delete"] + [f"--exclude={e}" for e in EXCLUDES] + [f"{ROOT}/", f"{dest}/"]
    subprocess.run(cmd, check=True)
    return dest


def test_ansible_test_sanity_on_the_plugins():
    pip_bootstrap_for_ansible_test()
    dest = collection_copy()
    res = run([str(labenv.VENV_BIN / "ansible-test"), "sanity", "--python", PYTHON,
               "--requirements", "--color", "no", "plugins/"], cwd=dest)
    assert res.returncode == 0
    assert "All targets skipped" not in res.stdout
    assert 'Running sanity test "validate-modules"' in res.stdout


def test_built_collection_installs_and_resolves(tmp_path):
    build = run([str(labenv.VENV_BIN / "ansible-galaxy"), "collection", "build",
                 "--output-path", str(tmp_path), str(ROOT)], cwd=ROOT)
    assert build.returncode == 0
    tarball = next(tmp_path.glob("darkreach-dbfleet-*.tar.gz"))
    with tarfile.open(tarball) as tf:
        names = tf.getnames()
    assert "galaxy.yml" not in names and "MANIFEST.json" in names
    assert not [n for n in names if n.startswith((".venv", ".cache", ".git/"))]
    fresh = tmp_path / "collections"
    env = labenv.podman_env({"ANSIBLE_COLLECTIONS_PATH": str(fresh), "ANSIBLE_NOCOLOR": "1"})
    env.pop("ANSIBLE_CONFIG", None)
    install = run([str(labenv.VENV_BIN / "ansible-galaxy"), "collection", "install",
                   "--no-deps", "-p", str(fresh), str(tarball)], cwd=tmp_path, env=env)
    assert install.returncode == 0 and "was installed successfully" in install.stdout
    for module in MODULES:
        res = run([str(labenv.VENV_BIN / "ansible-doc"), f"darkreach.dbfleet.{module}"],
                  cwd=tmp_path, env=env)
        assert res.returncode == 0 and "EXAMPLES" in res.stdout, module
    for role in ROLES:
        res = run([str(labenv.VENV_BIN / "ansible-doc"), "-t", "role",
                   f"darkreach.dbfleet.{role}"], cwd=tmp_path, env=env)
        # "ENTRY POINT: *main*" without colour, with bold escapes otherwise
        text = re.sub(r"\x1b\[[0-9;]*m", "", res.stdout)
        assert res.returncode == 0 and re.search(r"ENTRY POINT: \W*main\b", text), role
    listing = run([str(labenv.VENV_BIN / "ansible-galaxy"), "collection", "list",
                   "darkreach.dbfleet", "-p", str(fresh)], cwd=tmp_path, env=env)
    assert str(fresh) in listing.stdout
    shutil.rmtree(fresh)
