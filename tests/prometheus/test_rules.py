"""The alert rules of roles/prometheus_server, rendered with the role's defaults, checked and
unit-tested with Debian 13's promtool (`promtool check rules`, `promtool test rules`)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import HERE, RULE_TEMPLATES

pytestmark = pytest.mark.containers

TESTS = sorted((HERE / "rules").glob("*.test.yml"))


def alerts_in(path: Path) -> set[str]:
    doc = yaml.safe_load(path.read_text())
    return {r["alert"] for g in doc["groups"] for r in g["rules"] if "alert" in r}


def test_every_rule_template_has_a_unit_test_file():
    assert {t.name.removesuffix(".rules.yml.j2") for t in RULE_TEMPLATES} == \
        {t.name.removesuffix(".test.yml") for t in TESTS}


@pytest.mark.parametrize("test_file", TESTS, ids=lambda p: p.name)
def test_every_alert_has_a_firing_case(test_file, render_rules):
    rendered = render_rules()
    doc = yaml.safe_load(test_file.read_text())
    rules = {a for name in doc["rule_files"] for a in alerts_in(rendered[name])}
    firing = {case["alertname"] for t in doc["tests"] for case in t.get("alert_rule_test", [])
              if case.get("exp_alerts")}
    assert rules, f"{test_file.name}: no alerts in {doc['rule_files']}"
    assert rules - firing == set(), f"alerts without a test that fires them: {sorted(rules - firing)}"


def test_rules_parse(promtool, render_rules):
    files = {name: path.read_text() for name, path in render_rules().items()}
    rc, out = promtool.run(files, "check", "rules", *files)
    assert rc == 0, out
    for name in files:
        assert f"Checking {name}" in out and "SUCCESS" in out, out


@pytest.mark.parametrize("test_file", TESTS, ids=lambda p: p.name)
def test_rules_unit(promtool, render_rules, test_file):
    files = {name: path.read_text() for name, path in render_rules().items()}
    files[test_file.name] = test_file.read_text()
    rc, out = promtool.run(files, "test", "rules", test_file.name)
    assert rc == 0, out
    assert "SUCCESS" in out, out


def test_short_delays_still_parse(promtool, render_rules):
    """The molecule scenario's settings (seconds instead of minutes) render valid rules."""
    files = {name: path.read_text() for name, path in render_rules(
        {"prometheus_server_alert_replication_lag_for": "10s",
         "prometheus_server_alert_activity_for": "5s",
         "prometheus_server_alert_long_transaction_seconds": 20}).items()}
    rc, out = promtool.run(files, "check", "rules", *files)
    assert rc == 0, out
    assert "for: 10s" in files["dbfleet-postgres.rules.yml"]


def test_promtool_refuses_a_rule_that_does_not_parse(promtool):
    """What the role's `validate: promtool check rules %s` relies on."""
    broken = (HERE.parents[1] / "molecule" / "postgres_exporter" / "files" / "broken.rules.yml").read_text()
    rc, out = promtool.run({"broken.rules.yml": broken}, "check", "rules", "broken.rules.yml")
    assert rc != 0
    assert "FAILED" in out, out
