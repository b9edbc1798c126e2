"""Fixtures for the Prometheus rule and dashboard tests.

* ``render_rules``: the rule templates of roles/prometheus_server rendered with the role's
  defaults (or overrides), as Ansible's template module renders them (the templates'
  ``#jinja2:`` header sets ``[[ ]]`` as Jinja's delimiters, so Prometheus' own
  ``{{ $labels }}`` stay as they are).
* ``promtool``: Debian 13's promtool (package ``promtool``, the version the monitoring
  host runs) in one container for the session, prefixed dbfleet-t-obs-; removed at the end.
"""
from __future__ import annotations

import re
import shlex
import time
from pathlib import Path

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ROLE = ROOT / "roles" / "prometheus_server"
RULE_TEMPLATES = sorted((ROLE / "templates" / "rules").glob("*.rules.yml.j2"))
HEADER = re.compile(r"^#jinja2:(?P<opts>.*)\n")


def _comment(text: str) -> str:
    return "\n".join(f"# {line}" if line else "#" for line in text.splitlines())


def role_defaults() -> dict:
    return yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())


def render_template(path: Path, variables: dict) -> str:
    """Render one template the way ansible.builtin.template does (header overrides)."""
    text = path.read_text()
    options = {}
    m = HEADER.match(text)
    if m:
        for part in m.group("opts").split(","):
            key, _, value = part.partition(":")
            options[key.strip()] = yaml.safe_load(value.strip())
        text = text[m.end():]
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, **options)
    env.filters["comment"] = _comment
    return env.from_string(text).render(ansible_managed="Ansible managed (test)", **variables)


@pytest.fixture
def render_rules(tmp_path):
    def render(overrides: dict | None = None, dest: Path | None = None) -> dict[str, Path]:
        variables = {**role_defaults(), **(overrides or {})}
        out = dest or tmp_path
        files = {}
        for tpl in RULE_TEMPLATES:
            target = out / tpl.name.removesuffix(".j2")
            target.write_text(render_template(tpl, variables))
            files[target.name] = target
        return files
    return render


class Promtool:
    def __init__(self, container):
        self.container = container

    def run(self, files: dict[str, str], *args: str) -> tuple[int, str]:
        """Copy files (name -> text) into a fresh directory and run promtool there."""
        self.container.run("rm -rf /tmp/promtool && mkdir -p /tmp/promtool")
        for name, text in files.items():
            self.container.run(f"cat > /tmp/promtool/{shlex.quote(name)}", stdin=text)
        res = self.container.run("cd /tmp/promtool && promtool " + " ".join(shlex.quote(a) for a in args),
                                 check=False, timeout=300)
        return res.returncode, res.stdout + res.stderr


@pytest.fixture(scope="session")
def promtool(container_factory):
    c = container_factory("dbfleet-t-obs-promtool")
    # The apt archive cache is shared with other containers: its lock may be held a while.
    for attempt in range(30):
        try:
            c.apt_install("promtool")
            break
        except AssertionError as exc:
            if "Could not get lock" not in str(exc) or attempt == 29:
                raise
            time.sleep(10)
    return Promtool(c)
