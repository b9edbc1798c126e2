"""Quality gates: yamllint, ansible-lint (production profile), the changelog
fragments, and role defaults vs argument specs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import labenv  # noqa: E402

ROLES = sorted(p.parent.parent.name for p in ROOT.glob("roles/*/defaults/main.yml"))


def run(*cmd: str) -> subprocess.CompletedProcess:
    res = subprocess.run([str(labenv.VENV_BIN / cmd[0]), *cmd[1:]], cwd=ROOT,
                         env=labenv.podman_env({"NO_COLOR": "1",
                                                # ansible-lint installs the collection under
                                                # ANSIBLE_HOME: per checkout, not ~/.ansible
                                                "ANSIBLE_HOME": str(labenv.CACHE / "ansible-home")}), text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    print(res.stdout[-15000:])
    return res


def test_yamllint():
    assert run("yamllint", "-s", ".").returncode == 0


def test_ansible_lint_production_profile():
    res = run("ansible-lint", "--profile", "production")
    assert res.returncode == 0
    assert "Profile 'production' was required, and it passed" in res.stdout


def test_changelog_fragments():
    assert run("antsibull-changelog", "lint").returncode == 0


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_argument_specs(role):
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()) or {}
    spec_file = ROOT / "roles" / role / "meta" / "argument_specs.yml"
    assert spec_file.exists(), f"role {role} has no meta/argument_specs.yml"
    specs = (yaml.safe_load(spec_file.read_text()) or {}).get("argument_specs", {})
    options = specs.get("main", {}).get("options", {})
    assert set(defaults) == set(options), (
        f"role {role}: only in defaults: {sorted(set(defaults) - set(options))}; "
        f"only in argument_specs: {sorted(set(options) - set(defaults))}")
    for name, spec in options.items():
        assert spec.get("description"), f"role {role}: {name} has no description"
        assert name.startswith(f"{role}_"), f"role {role}: {name} lacks the role prefix"
        if name in defaults and "default" in spec:
            assert spec["default"] == defaults[name], (
                f"role {role}: {name} default differs: spec {spec['default']!r} vs "
                f"defaults/main.yml {defaults[name]!r}")
