# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Semaphore survey variables from one job-template entry of awx/job_templates.yml."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: semaphore_survey_vars
short_description: Semaphore survey variables from a job-template entry
version_added: 0.1.0
description:
  - Turns one entry of C(awx/job_templates.yml) (its C(survey), written with AWX's field
    names) into Semaphore's C(survey_vars) list for its templates API.
  - AWX C(integer) becomes Semaphore C(int), C(multiplechoice) becomes C(enum) with one
    value per choice, C(password) becomes C(secret), text becomes Semaphore's string type
    (the empty type). Semaphore has no ranges, floats or multi-selects; ranges are
    checked by the playbook itself; a C(float) or C(multiselect) question is refused.
  - The entry is checked like P(darkreach.dbfleet.awx_survey_spec#filter) checks it.
options:
  _input:
    description: One job-template entry (C(name), C(survey)).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Semaphore survey of the cutover template
  ansible.builtin.debug:
    msg: "{{ templates | selectattr('playbook', 'eq', 'playbooks/cutover.yml') | first
             | darkreach.dbfleet.semaphore_survey_vars }}"
'''

RETURN = r'''
_value:
  description: Semaphore survey variables (C(name), C(title), C(description), C(type), C(required), C(values), C(default_value)).
  type: list
  elements: dict
'''

from ansible_collections.darkreach.dbfleet.plugins.filter.awx_survey_spec import (  # noqa: E402
    SurveyError, questions)

TYPES = {"text": "", "textarea": "", "password": "secret", "integer": "int",
         "multiplechoice": "enum"}


def semaphore_survey_vars(entry):
    result = []
    for question in questions(entry):
        if question["type"] not in TYPES:
            raise SurveyError(f"{entry.get('name', '?')}: {question['variable']}: Semaphore has "
                              f"no {question['type']} survey type")
        var = {
            "name": question["variable"],
            "title": question["question_name"],
            "description": question["question_description"],
            "type": TYPES[question["type"]],
            "required": bool(question["required"]),
            "default_value": "" if question["default"] is None else str(question["default"]),
        }
        if question["type"] == "multiplechoice":
            var["values"] = [{"name": c, "value": c} for c in question["choices"]]
        result.append(var)
    return result


class FilterModule(object):
    def filters(self):
        return {"semaphore_survey_vars": _filter}


def _filter(entry):
    try:
        return semaphore_survey_vars(entry)
    except SurveyError as exc:
        from ansible.errors import AnsibleFilterError
        raise AnsibleFilterError(str(exc))
