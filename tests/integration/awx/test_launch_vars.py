"""playbooks/tasks/launch_vars.yml on its own: a play with a launch spec of every kind
(type, choices, range, a yes/no confirmation, a confirmation by name) run on localhost."""
from __future__ import annotations

import subprocess

import pytest
import yaml

from helpers.ansible import ansible_env
from helpers.containers import ROOT, labenv

PLAY = [{
    "name": "launch variables under test",
    "hosts": "all",
    "gather_facts": False,
    "any_errors_fatal": True,
    "vars": {"dbfleet_launch_spec": {
        "size": {"type": "int", "min": 1, "max": 5},
        "flavour": {"type": "str", "choices": ["a", "b"]},
        "go": {"type": "bool", "default": False, "confirm": "say go=true"},
        "wipe": {"type": "str", "confirm": "name the host to wipe in wipe=", "equals": "{{ __scratch }}"},
    }, "__scratch": "scratch1"},
    "tasks": [{"name": "Check the launch variables",
               "ansible.builtin.import_tasks": str(ROOT / "playbooks" / "tasks" / "launch_vars.yml")},
              {"name": "Past the checks", "ansible.builtin.debug": {"msg": "PAST THE CHECKS"}}],
}]
GOOD = {"size": 3, "flavour": "a", "go": "true", "wipe": "scratch1"}


@pytest.mark.parametrize("override,message", [
    ({}, None),
    ({"size": 9}, "size is 9; it must be between 1 and 5"),
    ({"size": "big"}, "argument 'size' is of type str and we were unable to convert to int"),
    ({"flavour": "c"}, "value of flavour must be one of: a, b, got: c"),
    ({"go": "false"}, "say go=true"),
    ({"go": "perhaps"}, "unable to convert to bool"),
    ({"wipe": "pg1"}, "name the host to wipe in wipe="),
    ({"wipe": ""}, "name the host to wipe in wipe="),
])
def test_launch_vars(tmp_path, override, message):
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump(PLAY, sort_keys=False))
    extravars = tmp_path / "extravars.yml"
    extravars.write_text(yaml.safe_dump({**GOOD, **override}))
    res = subprocess.run([str(labenv.VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                          str(play), "-e", f"@{extravars}"], cwd=tmp_path, text=True,
                         env=ansible_env({"ANSIBLE_STDOUT_CALLBACK": "default"}),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    print(res.stdout[-4000:])
    flat = " ".join(res.stdout.split())
    if message is None:
        assert res.returncode == 0 and "PAST THE CHECKS" in flat
    else:
        assert res.returncode != 0 and message in flat and "PAST THE CHECKS" not in flat
