"""awx/job_templates.yml against the playbooks: every entry's playbook exists, every
survey question is validated by its playbook's launch checks with the same type,
choices, range and confirmation (and the other way round), destructive steps are
confirmed before any host is touched, and the survey filters for AWX and Semaphore
produce what those servers take."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.darkreach.dbfleet.plugins.filter.awx_survey_spec import (
    SurveyError, awx_survey_spec)
from ansible_collections.darkreach.dbfleet.plugins.filter.semaphore_survey_vars import (
    semaphore_survey_vars)

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOKS = ROOT / "playbooks"
TEMPLATES = yaml.safe_load((ROOT / "awx" / "job_templates.yml").read_text())["dbfleet_job_templates"]
IDS = [t["playbook"].split("/")[-1] for t in TEMPLATES]
# Playbooks that are not job templates, and why.
NOT_TEMPLATES = {
    "awx_configure.yml": "configures AWX itself, run from a terminal",
    "semaphore_configure.yml": "configures Semaphore itself, run from a terminal",
    "lab_standins.yml": "lab only: its hosts are podman containers on the lab machine",
    "restore_drill.yml": "replaces a scratch host's data directory named at launch "
                         "(restore_drill_confirm_wipe); its checks are a play on localhost, not "
                         "the launch-variables play a survey is validated against, so it is run "
                         "from a terminal for now",
}
SPEC_TYPES = {"integer": "int", "float": "float", "text": "str", "textarea": "str",
              "password": "str", "multiselect": "list"}


def plays_of(playbook: Path) -> list[dict]:
    """The plays of a playbook, imported playbooks expanded in place."""
    plays = []
    for play in yaml.safe_load(playbook.read_text()) or []:
        target = play.get("ansible.builtin.import_playbook") or play.get("import_playbook")
        if target:
            plays += plays_of(playbook.parent / target)
        else:
            plays.append(play)
    return plays


def launch_spec(play: dict) -> dict | None:
    """The play's dbfleet_launch_spec when the play runs tasks/launch_vars.yml."""
    tasks = play.get("tasks") or []
    if not any(t.get("ansible.builtin.import_tasks") == "tasks/launch_vars.yml" for t in tasks):
        return None
    return (play.get("vars") or {}).get("dbfleet_launch_spec") or {}


def validated(playbook: Path) -> dict:
    """Every variable the playbook's launch checks validate, over all its plays."""
    specs: dict = {}
    for play in plays_of(playbook):
        for name, spec in (launch_spec(play) or {}).items():
            assert specs.get(name, spec) == spec, f"{playbook.name}: {name} is checked two ways"
            specs[name] = spec
    return specs


def drift(entry: dict, specs: dict) -> list[str]:
    """Where a survey and its playbook's launch checks disagree."""
    problems = []
    questions = {q["variable"]: q for q in awx_survey_spec(entry)["spec"]}
    for name in sorted(set(questions) - set(specs)):
        problems.append(f"{name} is asked by the survey but not validated by the playbook")
    for name in sorted(set(specs) - set(questions)):
        problems.append(f"{name} is validated by the playbook but not offered by the survey")
    for name in sorted(set(questions) & set(specs)):
        q, spec = questions[name], specs[name]
        stype = spec.get("type", "str")
        if q["type"] == "multiplechoice":
            want = ["false", "true"] if stype == "bool" else [str(c) for c in spec.get("choices", [])]
            if sorted(q["choices"]) != sorted(want):
                problems.append(f"{name}: survey choices {q['choices']} vs validated {want}")
        elif SPEC_TYPES[q["type"]] != stype:
            problems.append(f"{name}: survey type {q['type']} vs validated type {stype}")
        for bound in ("min", "max"):
            if q["type"] in ("integer", "float") and q.get(bound) != spec.get(bound):
                problems.append(f"{name}: survey {bound} {q.get(bound)} vs validated {spec.get(bound)}")
        if q["type"] == "password" and not spec.get("no_log"):
            problems.append(f"{name}: a password question whose check does not set no_log")
        if "confirm" in spec and "equals" in spec:
            if q["default"] != "" or not q["required"] or q["type"] != "text":
                problems.append(f"{name}: a confirmation by name must be a required text "
                                f"question without a default")
        elif "confirm" in spec:
            if q["default"] != "false" or not q["required"] or q["type"] != "multiplechoice":
                problems.append(f"{name}: a confirmation must be a required false/true choice "
                                f"defaulting to false")
        if spec.get("required") and not q["required"]:
            problems.append(f"{name}: required by the playbook, optional in the survey")
    return problems


def test_every_template_names_an_existing_playbook():
    missing = [t["playbook"] for t in TEMPLATES if not (ROOT / t["playbook"]).is_file()]
    assert not missing, f"job templates for playbooks that do not exist: {missing}"
    names = [t["name"] for t in TEMPLATES]
    assert len(names) == len(set(names)), "two job templates share a name"


def test_every_playbook_is_a_template_or_says_why_not():
    templated = {Path(t["playbook"]).name for t in TEMPLATES}
    untemplated = {p.name for p in PLAYBOOKS.glob("*.yml")} - templated - set(NOT_TEMPLATES)
    assert not untemplated, (f"playbooks without a job template in awx/job_templates.yml: "
                             f"{sorted(untemplated)} (add an entry, or a reason to NOT_TEMPLATES)")


@pytest.mark.parametrize("entry", TEMPLATES, ids=IDS)
def test_survey_and_playbook_agree(entry):
    assert drift(entry, validated(ROOT / entry["playbook"])) == []


@pytest.mark.parametrize("entry", TEMPLATES, ids=IDS)
def test_confirmations_are_checked_before_any_host_is_touched(entry):
    """A destructive step's confirmation is checked in the first play, on all hosts (a
    --limit cannot skip a play on `all`), and such templates offer no limit."""
    plays = plays_of(ROOT / entry["playbook"])
    confirms = {n for n, s in validated(ROOT / entry["playbook"]).items() if "confirm" in s}
    if not confirms:
        return
    first = launch_spec(plays[0]) or {}
    assert confirms <= {n for n, s in first.items() if "confirm" in s}, (
        f"{entry['playbook']}: {sorted(confirms)} must be confirmed in its first play")
    assert plays[0]["hosts"] == "all" and plays[0].get("any_errors_fatal") is True
    assert not entry.get("ask_limit"), "a template with a confirmation must not ask for a limit"


@pytest.mark.parametrize("playbook", sorted(PLAYBOOKS.glob("*.yml")), ids=lambda p: p.name)
def test_launch_plays_run_on_all_hosts_and_come_first(playbook):
    plays = yaml.safe_load(playbook.read_text()) or []
    for index, play in enumerate(plays):
        if launch_spec(play) is not None:
            assert index == 0, f"{playbook.name}: the launch checks must be the first play"
            assert play["hosts"] == "all" and play.get("tags") == ["always"]
            assert play.get("gather_facts") is False


# The comparison itself: each kind of drift is caught.
PHASE3 = next(t for t in TEMPLATES if t["playbook"] == "playbooks/phase3.yml")


def _mutated(change):
    entry = copy.deepcopy(PHASE3)
    change(entry["survey"])
    return drift(entry, validated(ROOT / PHASE3["playbook"]))


@pytest.mark.parametrize("change,expect", [
    (lambda s: s.append({"variable": "dbfleet_extra", "type": "text"}), "not validated by the playbook"),
    (lambda s: s.pop(0), "validated by the playbook but not offered"),
    (lambda s: s[0].update(choices=["16", "17", "18"]), "survey choices"),
    (lambda s: s[2].update(max=64), "survey max 64 vs validated 16"),
    (lambda s: s[2].update(type="text"), "survey type text vs validated type int"),
    (lambda s: s[1].update(default="true"), "a confirmation must be"),
    (lambda s: s[1].update(required=False), "a confirmation must be"),
])
def test_drift_is_caught(change, expect):
    problems = _mutated(change)
    assert any(expect in p for p in problems), problems


# The filters.
def test_awx_survey_spec_fills_in_what_awx_requires():
    spec = awx_survey_spec(PHASE3)
    assert spec["name"] == PHASE3["name"] and len(spec["spec"]) == len(PHASE3["survey"])
    for question in spec["spec"]:
        assert {"question_name", "question_description", "required", "type", "variable",
                "default", "choices"} <= set(question)
    confirm = next(q for q in spec["spec"] if q["variable"] == "dbfleet_cutover_confirm")
    assert confirm["choices"] == ["false", "true"] and confirm["default"] == "false"


def test_semaphore_survey_vars_convert_the_types():
    by_name = {v["name"]: v for v in semaphore_survey_vars(PHASE3)}
    assert by_name["dbfleet_cutover_jobs"]["type"] == "int"
    assert by_name["dbfleet_cutover_confirm"]["type"] == "enum"
    assert by_name["dbfleet_cutover_confirm"]["values"] == [
        {"name": "false", "value": "false"}, {"name": "true", "value": "true"}]
    assert by_name["dbfleet_cutover_confirm"]["required"] is True
    assert by_name["postgres_timescale_version"]["default_value"] == ""


@pytest.mark.parametrize("question,expect", [
    ({"variable": "x", "type": "boolean"}, "type 'boolean' is not one of"),
    ({"variable": "x", "type": "multiplechoice"}, "needs choices"),
    ({"variable": "x", "type": "multiplechoice", "choices": ["a"], "default": "b"}, "not one of its choices"),
    ({"variable": "x", "type": "integer", "min": 1, "max": 5, "default": 9}, "outside 1..5"),
    ({"type": "text"}, "without a variable"),
])
def test_bad_survey_entries_are_refused(question, expect):
    with pytest.raises(SurveyError, match=expect):
        awx_survey_spec({"name": "t", "survey": [question]})


def test_a_variable_asked_twice_is_refused():
    with pytest.raises(SurveyError, match="asked twice"):
        awx_survey_spec({"name": "t", "survey": [{"variable": "x", "type": "text"}] * 2})


def test_semaphore_refuses_what_it_cannot_show():
    with pytest.raises(SurveyError, match="no multiselect survey type"):
        semaphore_survey_vars({"name": "t", "survey": [
            {"variable": "x", "type": "multiselect", "choices": ["a", "b"]}]})
