"""Every molecule scenario under molecule/, run step by step as `molecule test` would:
create, prepare, converge, idempotence, check (a --check run on the converged hosts
must neither fail nor change), verify, destroy (always).

Convention: scenario values containing `s3cret` are secrets; no step may print one.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import labenv  # noqa: E402

SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
# Scenarios run more than once, with environment variables their molecule.yml reads. The
# runs of one scenario share container names, so they stay in one test stream (group).
VARIANTS = {
    "cutover": {"pg15-source": {},
                "pg17-source": {"DBFLEET_CUTOVER_SOURCE_IMAGE": "localhost/dbfleet-trixie:latest"}},
}
PARAMS = [
    pytest.param(scenario, env, id=f"{scenario}-{variant}",
                 marks=pytest.mark.xdist_group(f"molecule-{scenario}"))
    if variant else pytest.param(scenario, env, id=scenario)
    for scenario in SCENARIOS
    for variant, env in (VARIANTS.get(scenario) or {None: {}}).items()
]
SECRET_MARK = "s3cret"
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)",
                   re.M)


def molecule(step: str, scenario: str, docker_host: str, *extra: str,
             timeout: int = 1800, variant_env: dict | None = None) -> subprocess.CompletedProcess:
    env = labenv.podman_env({**(variant_env or {}),"DOCKER_HOST": docker_host, "ANSIBLE_FORCE_COLOR": "0",
                             "PY_COLORS": "0", "MOLECULE_NO_LOG": "false",
                             # per checkout, not ~/.ansible: two checkouts never share it
                             "ANSIBLE_HOME": str(labenv.CACHE / "ansible-home")})
    env.pop("ANSIBLE_CONFIG", None)  # molecule writes its own ansible.cfg
    cmd = [str(labenv.VENV_BIN / "molecule"), step, "-s", scenario, *extra]
    res = subprocess.run(cmd, cwd=ROOT, env=env, text=True, timeout=timeout,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sys.stdout.write(f"\n===== molecule {step} -s {scenario} (exit {res.returncode}) =====\n")
    sys.stdout.write(res.stdout[-20000:])
    return res


def recap(output: str) -> dict[str, tuple[int, int, int, int]]:
    return {m.group(1): tuple(int(x) for x in m.group(2, 3, 4, 5))
            for m in RECAP.finditer(output)}


@pytest.mark.molecule
@pytest.mark.parametrize("scenario, variant_env", PARAMS)
def test_scenario(scenario, variant_env, podman_service):
    labenv.APT_ARCHIVES.mkdir(parents=True, exist_ok=True)
    outputs = []
    try:
        for step in ("destroy", "create", "prepare", "converge"):
            # --force: molecule skips prepare when an earlier run's state says "prepared",
            # and a scenario converged on unprepared hosts tests something else.
            extra = ("--force",) if step == "prepare" else ()
            res = molecule(step, scenario, podman_service, *extra, variant_env=variant_env)
            outputs.append(res.stdout)
            assert res.returncode == 0, f"molecule {step} failed for {scenario}"

        res = molecule("idempotence", scenario, podman_service, variant_env=variant_env)
        outputs.append(res.stdout)
        assert res.returncode == 0, f"{scenario}: the second converge changed something"

        res = molecule("converge", scenario, podman_service, "--", "--check", variant_env=variant_env)
        outputs.append(res.stdout)
        assert res.returncode == 0, f"{scenario}: --check on converged hosts failed"
        changed = {h: r[1] for h, r in recap(res.stdout).items() if r[1]}
        assert not changed, f"{scenario}: --check on converged hosts reports changes: {changed}"

        res = molecule("verify", scenario, podman_service, variant_env=variant_env)
        outputs.append(res.stdout)
        assert res.returncode == 0, f"molecule verify failed for {scenario}"
    finally:
        molecule("destroy", scenario, podman_service, variant_env=variant_env)
    leaked = [o for o in outputs if SECRET_MARK in o]
    assert not leaked, f"{scenario}: a secret value appeared in molecule's output"
