# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX survey spec from one job-template entry of awx/job_templates.yml.
Pure Python: the tests import it to compare surveys with the playbooks."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: awx_survey_spec
short_description: An AWX / Automation Controller survey spec from a job-template entry
version_added: 0.1.0
description:
  - Turns one entry of C(awx/job_templates.yml) (its C(survey) list, questions written
    with AWX's own field names) into the JSON that AWX's
    C(/api/v2/job_templates/<id>/survey_spec/) endpoint takes.
  - Every question gets AWX's fields filled in (C(question_description), C(required),
    C(min), C(max), C(default), C(choices)); a question without a C(default) gets an empty
    one, so an unanswered optional question sends no variable and the inventory's value
    stays in force.
  - Refuses a question with an unknown C(type), a C(multiplechoice) without C(choices),
    a C(default) outside its C(choices) or its C(min)/C(max), and a variable asked twice.
options:
  _input:
    description: One job-template entry (C(name), C(survey), optionally C(description)).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Survey spec of every template
  ansible.builtin.debug:
    msg: "{{ item | darkreach.dbfleet.awx_survey_spec }}"
  loop: "{{ (lookup('ansible.builtin.file', 'awx/job_templates.yml') | from_yaml).dbfleet_job_templates }}"
'''

RETURN = r'''
_value:
  description: The survey spec (C(name), C(description), C(spec) - the list of questions).
  type: dict
'''

QUESTION_TYPES = ("text", "textarea", "password", "integer", "float", "multiplechoice",
                  "multiselect")


class SurveyError(ValueError):
    """A survey entry that AWX (or Semaphore) would not take, or that misleads."""


def _check_default(template, question):
    qtype = question["type"]
    default = question.get("default", "")
    if default in ("", None):
        return
    var = question["variable"]
    if qtype in ("multiplechoice", "multiselect"):
        values = default if isinstance(default, list) else str(default).split("\n")
        wrong = [v for v in values if str(v) not in [str(c) for c in question["choices"]]]
        if wrong:
            raise SurveyError(f"{template}: {var}: default {default!r} is not one of its "
                              f"choices {question['choices']}")
    if qtype in ("integer", "float"):
        try:
            number = int(default) if qtype == "integer" else float(default)
        except (TypeError, ValueError):
            raise SurveyError(f"{template}: {var}: default {default!r} is not an {qtype}")
        if "min" in question and number < question["min"] or \
                "max" in question and number > question["max"]:
            raise SurveyError(f"{template}: {var}: default {default} is outside "
                              f"{question.get('min')}..{question.get('max')}")


def questions(entry):
    """The checked questions of one entry, with AWX's fields filled in."""
    template = entry.get("name", "?")
    seen = set()
    result = []
    for raw in entry.get("survey") or []:
        question = dict(raw)
        var = question.get("variable")
        if not var:
            raise SurveyError(f"{template}: a survey question without a variable: {raw!r}")
        if var in seen:
            raise SurveyError(f"{template}: {var} is asked twice")
        seen.add(var)
        if question.get("type") not in QUESTION_TYPES:
            raise SurveyError(f"{template}: {var}: type {question.get('type')!r} is not one of "
                              f"{', '.join(QUESTION_TYPES)}")
        if question["type"] in ("multiplechoice", "multiselect") and not question.get("choices"):
            raise SurveyError(f"{template}: {var}: a {question['type']} question needs choices")
        _check_default(template, question)
        question.setdefault("question_name", var)
        question.setdefault("question_description", "")
        question.setdefault("required", False)
        question.setdefault("default", "")
        if question["type"] in ("multiplechoice", "multiselect"):
            question["choices"] = [str(c) for c in question["choices"]]
            question["default"] = str(question["default"])
        else:
            question.setdefault("choices", "")
        if question["type"] in ("text", "textarea", "password"):
            question.setdefault("min", 0)
            question.setdefault("max", 1024)
        result.append(question)
    return result


def awx_survey_spec(entry):
    return {
        "name": entry.get("name", ""),
        "description": entry.get("description", ""),
        "spec": questions(entry),
    }


class FilterModule(object):
    def filters(self):
        return {"awx_survey_spec": _filter}


def _filter(entry):
    try:
        return awx_survey_spec(entry)
    except SurveyError as exc:
        from ansible.errors import AnsibleFilterError
        raise AnsibleFilterError(str(exc))
