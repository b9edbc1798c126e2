# -*- coding: utf-8 -*-
# Copyright: (c) 2026, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The physical replication slot name of a replica host: one formula for the primary
side (which slots should exist) and the replica side (which slot it streams from).
Pure Python."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

DOCUMENTATION = r'''
name: replica_slot_name
short_description: The replication slot name of a replica host
version_added: 0.2.0
description:
  - Returns O(prefix) followed by the host name in lower case, every character other than
    a-z, 0-9 and underscore replaced by an underscore (C(pg-2.lab) -> C(dbfleet_pg_2_lab)).
  - Slot names may hold only lower-case letters, digits and underscores, at most 63 bytes;
    a result longer than that fails with a message naming the host.
  - Role C(darkreach.dbfleet.streaming_replica) uses it on both sides, so the slots it creates
    and the slots it treats as its own (and drops when their replica left the inventory) agree.
options:
  _input:
    description: The inventory host name of the replica.
    type: str
    required: true
  prefix:
    description: Prefix of every slot the collection manages.
    type: str
    default: dbfleet_
'''

EXAMPLES = r'''
- name: The slot of this replica
  ansible.builtin.debug:
    msg: "{{ inventory_hostname | darkreach.dbfleet.replica_slot_name(prefix='dbfleet_') }}"
'''

RETURN = r'''
_value:
  description: The slot name.
  type: str
'''

_SLOT_RE = re.compile(r'^[a-z0-9_]+$')


class SlotNameError(ValueError):
    pass


def replica_slot_name(host, prefix='dbfleet_'):
    if not isinstance(prefix, str) or not _SLOT_RE.match(prefix):
        raise SlotNameError('replica_slot_name: prefix %r may hold only a-z, 0-9 and _' % (prefix,))
    if not isinstance(host, str) or not host:
        raise SlotNameError('replica_slot_name: the host name must be a non-empty string')
    name = prefix + re.sub(r'[^a-z0-9_]', '_', host.lower())
    if len(name) > 63:
        raise SlotNameError('replica_slot_name: slot %s for host %s is longer than 63 bytes; '
                            'set streaming_replica_slot_name for it' % (name, host))
    return name


def _filter(*args, **kwargs):
    try:
        return replica_slot_name(*args, **kwargs)
    except SlotNameError as exc:
        from ansible.errors import AnsibleFilterError
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"replica_slot_name": _filter}
