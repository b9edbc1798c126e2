#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: redis_fleet_status
short_description: List the darkreach workers that are alive, from their heartbeat keys in Redis
version_added: 0.1.0
description:
  - Each darkreach worker heartbeats with C(SET worker:{id} {json} EX 60); a worker is active
    while its key exists. This module lists the active workers by walking the keyspace with
    C(SCAN MATCH worker:* COUNT n) (never C(KEYS), which blocks the server), and returns their
    number, their ids and how long the read took.
  - Keys below a worker's key (C(worker:{id}:cmd), rate-limit counters) are not workers and are
    left out unless O(exclude_subkeys=false).
  - Read-only; a user with C(+scan +ping) on the key pattern is enough (the role
    C(darkreach.dbfleet.redis_sidecar) creates such a monitoring user).
author:
  - darkreach engineering (@darkreach)
extends_documentation_fragment:
  - darkreach.dbfleet.redis
attributes:
  check_mode:
    support: full
    description: The module only reads; it behaves the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
options:
  prefix:
    description:
      - The heartbeat keys are C(<prefix><id>). Glob characters in it are matched literally.
    type: str
    default: 'worker:'
  exclude_subkeys:
    description:
      - Leave out keys whose id part contains O(separator) (C(worker:7:cmd) is not a worker).
    type: bool
    default: true
  separator:
    description:
      - The separator of key name parts, for O(exclude_subkeys).
    type: str
    default: ':'
  scan_count:
    description:
      - The C(COUNT) hint of each C(SCAN) call (keys the server looks at per call).
    type: int
    default: 1000
  with_ttl:
    description:
      - Also read each worker key's TTL (one pipelined C(PTTL) per key) and return the ids of
        keys that never expire in RV(without_ttl).
    type: bool
    default: false
  min_workers:
    description:
      - Fail when fewer workers are active (a probe for alerting or a rollout gate).
    type: int
    default: 0
'''

EXAMPLES = r'''
- name: Read the active workers as the monitoring user
  darkreach.dbfleet.redis_fleet_status:
    login_host: 127.0.0.1
    login_user: monitor
    login_password: "{{ redis_sidecar_monitor_password }}"
  register: fleet

- name: Show how many workers heartbeat
  ansible.builtin.debug:
    msg: "{{ fleet.count }} workers active, read in {{ fleet.latency_ms }} ms"

- name: Fail unless at least 40 workers are alive, and find heartbeats without a TTL
  darkreach.dbfleet.redis_fleet_status:
    login_host: 10.0.0.2
    login_user: monitor
    login_password: "{{ redis_sidecar_monitor_password }}"
    with_ttl: true
    min_workers: 40
'''

RETURN = r'''
count:
  description: Number of active workers.
  returned: always
  type: int
  sample: 3
workers:
  description: The active workers' ids, sorted.
  returned: always
  type: list
  elements: str
  sample: ['1', '2', '7']
latency_ms:
  description: Wall time of the whole SCAN walk, in milliseconds.
  returned: always
  type: float
  sample: 1.42
ping_ms:
  description: Round trip of one C(PING), in milliseconds (the network part of RV(latency_ms)).
  returned: always
  type: float
  sample: 0.21
scan_calls:
  description: Number of C(SCAN) calls the walk took.
  returned: always
  type: int
  sample: 2
keys_scanned:
  description: Keys that matched C(<prefix>*), workers and sub-keys together.
  returned: always
  type: int
  sample: 5
without_ttl:
  description: Ids of worker keys that never expire (only with O(with_ttl=true)).
  returned: when O(with_ttl=true)
  type: list
  elements: str
  sample: []
'''

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_redis import (
    connect,
    describe_endpoint,
    redis,
    redis_common_argument_spec,
    to_text_error,
)

_GLOB_SPECIAL = '*?[]\\'


def glob_escape(text):
    """Escape Redis glob characters so ``text`` matches itself in SCAN MATCH."""
    return ''.join('\\' + ch if ch in _GLOB_SPECIAL else ch for ch in text)


def scan_pattern(prefix):
    return glob_escape(prefix) + '*'


def worker_ids(keys, prefix, exclude_subkeys=True, separator=':'):
    """The worker ids among ``keys`` (sorted, unique): ``<prefix><id>`` with a non-empty id
    that, with ``exclude_subkeys``, does not contain ``separator``."""
    ids = set()
    for key in keys:
        if not key.startswith(prefix):
            continue
        wid = key[len(prefix):]
        if not wid:
            continue
        if exclude_subkeys and separator and separator in wid:
            continue
        ids.add(wid)
    return sorted(ids, key=_natural_key)


def _natural_key(wid):
    return (0, int(wid), '') if wid.isdigit() else (1, 0, wid)


def scan_keys(client, pattern, count):
    """Every key matching ``pattern`` by SCAN; returns (keys, number of SCAN calls)."""
    keys = []
    calls = 0
    cursor = 0
    while True:
        cursor, batch = client.scan(cursor=cursor, match=pattern, count=count)
        calls += 1
        keys.extend(batch)
        if int(cursor) == 0:
            break
    return keys, calls


def main():
    argument_spec = redis_common_argument_spec()
    argument_spec.update(
        prefix=dict(type='str', default='worker:'),
        exclude_subkeys=dict(type='bool', default=True),
        separator=dict(type='str', default=':'),
        scan_count=dict(type='int', default=1000),
        with_ttl=dict(type='bool', default=False),
        min_workers=dict(type='int', default=0),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if not params['prefix']:
        module.fail_json(msg='prefix must not be empty: an empty prefix would scan every key')
    if params['scan_count'] < 1:
        module.fail_json(msg='scan_count must be at least 1, got %d' % params['scan_count'])

    client = connect(module)
    try:
        start = time.perf_counter()
        client.ping()
        ping_ms = (time.perf_counter() - start) * 1000.0

        start = time.perf_counter()
        keys, calls = scan_keys(client, scan_pattern(params['prefix']), params['scan_count'])
        latency_ms = (time.perf_counter() - start) * 1000.0

        ids = worker_ids(keys, params['prefix'], params['exclude_subkeys'], params['separator'])
        result = dict(changed=False, count=len(ids), workers=ids,
                      latency_ms=round(latency_ms, 3), ping_ms=round(ping_ms, 3),
                      scan_calls=calls, keys_scanned=len(keys))

        if params['with_ttl']:
            pipe = client.pipeline(transaction=False)
            for wid in ids:
                pipe.pttl(params['prefix'] + wid)
            ttls = pipe.execute() if ids else []
            # -1: no expiry; -2: expired between SCAN and PTTL (no longer active).
            result['without_ttl'] = [wid for wid, ttl in zip(ids, ttls) if ttl == -1]
    except redis.exceptions.NoPermissionError as exc:
        module.fail_json(msg='Redis %s: user lacks a permission the probe needs (SCAN/PING on %s): %s'
                         % (describe_endpoint(params), scan_pattern(params['prefix']),
                            to_text_error(exc)))
    except redis.exceptions.RedisError as exc:
        module.fail_json(msg='Redis %s: %s' % (describe_endpoint(params), to_text_error(exc)))
    finally:
        client.close()

    if result['count'] < params['min_workers']:
        module.fail_json(msg='only %d active worker(s), fewer than min_workers=%d'
                         % (result['count'], params['min_workers']), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
