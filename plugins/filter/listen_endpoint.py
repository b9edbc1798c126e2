# -*- coding: utf-8 -*-
# Copyright: (c) 2026, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The address:port a service of the collection listens on (an exporter, Prometheus),
with the one rule every such role follows: the host's private address by default, and
every interface only on an explicit opt-in. Pure Python."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

DOCUMENTATION = r'''
name: listen_endpoint
short_description: The address:port a service listens on, every interface only on an opt-in
version_added: 0.2.0
description:
  - Returns C(address:port) for a C(--web.listen-address) style option, O(_input) when it is
    not empty, otherwise O(default) (the host's private address,
    C(ansible_facts['default_ipv4']['address'])). An IPv6 address is put in brackets.
  - An address that means every interface (C(0.0.0.0), C(::), C([::]), C(*), or none at all)
    fails with a message naming O(prefix)C(_listen_address) and O(prefix)C(_listen_all_allowed),
    unless O(allow_all) is true; then C(0.0.0.0) and C(::) are kept and C(*) or no address
    become C(:port).
  - Roles C(darkreach.dbfleet.postgres_exporter), C(darkreach.dbfleet.pgbouncer_exporter) and
    C(darkreach.dbfleet.prometheus_server) derive their listen address with it, so the rule and
    its message are the same everywhere.
options:
  _input:
    description: The address asked for (the role's C(<prefix>_listen_address)); empty means O(default).
    type: str
    required: true
  port:
    description: The TCP port (1-65535).
    type: int
    required: true
  default:
    description: The address used when O(_input) is empty.
    type: str
    default: ''
  allow_all:
    description: Whether listening on every interface is allowed (the role's C(<prefix>_listen_all_allowed)).
    type: bool
    default: false
  prefix:
    description: The role's variable prefix; the error message names its variables.
    type: str
    required: true
'''

EXAMPLES = r'''
- name: The exporter's listen address
  ansible.builtin.debug:
    msg: >-
      {{ pgbouncer_exporter_listen_address | darkreach.dbfleet.listen_endpoint(
           pgbouncer_exporter_port, default=ansible_facts['default_ipv4']['address'] | default(''),
           allow_all=pgbouncer_exporter_listen_all_allowed, prefix='pgbouncer_exporter') }}
'''

RETURN = r'''
_value:
  description: C(address:port), C([v6-address]:port), or C(:port) for every interface (opt-in only).
  type: str
'''

ALL_INTERFACES = ('0.0.0.0', '::', '[::]', '*', '')
_PREFIX_RE = re.compile(r'^[a-z][a-z0-9_]*$')
_TRUE = ('true', 'yes', 'on', '1', 'y', 't')
_FALSE = ('false', 'no', 'off', '0', 'n', 'f', '')


class ListenEndpointError(ValueError):
    pass


def _flag(value, name):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ''
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ListenEndpointError('%s is %r, not a boolean (true or false)' % (name, value))


def listen_endpoint(address, port, default='', allow_all=False, prefix=None):
    if not isinstance(prefix, str) or not _PREFIX_RE.match(prefix):
        raise ListenEndpointError('listen_endpoint: prefix %r must be a role variable prefix '
                                  '(lower-case letters, digits, _)' % (prefix,))
    if address is not None and not isinstance(address, str):
        raise ListenEndpointError('%s: %s_listen_address is %r, not an address (a string)'
                                  % (prefix, prefix, address))
    allowed = _flag(allow_all, '%s: %s_listen_all_allowed' % (prefix, prefix))
    if isinstance(port, bool):
        port = None
    try:
        number = int(str(port).strip())
    except (TypeError, ValueError):
        number = 0
    if not 0 < number < 65536:
        raise ListenEndpointError('%s: the port %r is not a TCP port (1-65535)' % (prefix, port))

    chosen = (address or '').strip() or (default or '').strip()
    if chosen in ALL_INTERFACES:
        if not allowed:
            raise ListenEndpointError(
                '%s: would listen on every interface (%s). Give %s_listen_address a private '
                'address, or set %s_listen_all_allowed to true if that is what you want.'
                % (prefix, chosen or 'no address found', prefix, prefix))
        if chosen in ('*', ''):
            return ':%d' % number
    if ':' in chosen and not chosen.startswith('['):
        chosen = '[%s]' % chosen
    return '%s:%d' % (chosen, number)


def _filter(*args, **kwargs):
    try:
        return listen_endpoint(*args, **kwargs)
    except ListenEndpointError as exc:
        from ansible.errors import AnsibleFilterError
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"listen_endpoint": _filter}
