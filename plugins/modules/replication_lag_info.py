#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: replication_lag_info
short_description: Streaming replication state and lag, per replica, in bytes and seconds
version_added: 0.2.0
description:
  - On a primary, reads C(pg_stat_replication) and C(pg_replication_slots) and returns one entry
    per replica, named by its C(application_name) (role C(darkreach.dbfleet.streaming_replica) sets it
    to the replica's slot name). Each entry has the state (C(streaming), C(catchup), ...), the lag in
    bytes between the primary's current WAL position and what the replica replayed, the replay lag in
    seconds, and its slot (active, WAL it holds back).
  - On a standby, returns the standby's own view (WAL receiver status, the primary it streams from,
    bytes received but not replayed, seconds since the last replayed transaction when it is behind).
  - Fails when asked to (O(max_lag_bytes), O(max_lag_seconds), O(expected), O(min_streaming)) with a
    message naming each replica that is missing, not streaming or too far behind; the data is
    returned either way.
  - Read-only; a role with C(pg_monitor) is enough.
author:
  - darkreach engineering (@darkreach)
extends_documentation_fragment:
  - darkreach.dbfleet.postgres
attributes:
  check_mode:
    support: full
    description: The module only reads; it behaves the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
options:
  expected:
    description:
      - Names (C(application_name), or the slot name) of replicas that must be streaming; a name
        that is absent or in another state is a problem. Only on a primary.
    type: list
    elements: str
    default: []
  min_streaming:
    description:
      - At least this many replicas must be streaming. Only on a primary.
    type: int
    default: 0
  max_lag_bytes:
    description:
      - A replica (or, on a standby, the standby) further behind than this many bytes of WAL is a problem.
    type: int
  max_lag_seconds:
    description:
      - A replica (or the standby) whose replay lags by more seconds is a problem.
    type: float
  fail_on_problem:
    description:
      - Fail when there is a problem. V(false) returns the problems in RV(problems) only.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Read the replicas' lag on the primary
  darkreach.dbfleet.replication_lag_info:
    login_unix_socket: /var/run/postgresql
  become: true
  become_user: postgres
  register: lag

- name: Show it
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.state }}, {{ item.lag_bytes }} bytes, {{ item.lag_seconds }} s"
  loop: "{{ lag.replicas }}"

- name: Gate a rolling restart on every replica streaming less than 5 s behind
  darkreach.dbfleet.replication_lag_info:
    login_host: pg1.internal
    login_user: monitor
    login_password: "{{ vault_monitor_password }}"
    expected: [dbfleet_pg2, dbfleet_pg3]
    max_lag_seconds: 5
'''

RETURN = r'''
role:
  description: C(primary) or C(standby), the role of the server the module connected to.
  returned: always
  type: str
  sample: primary
replicas:
  description: One entry per replica connected to the primary (empty on a standby).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The replica's C(application_name).
      type: str
    client_addr:
      description: The address it connects from.
      type: str
    state:
      description: C(startup), C(catchup), C(streaming), C(backup) or C(stopping).
      type: str
    sync_state:
      description: C(async), C(potential), C(sync) or C(quorum).
      type: str
    streaming:
      description: Whether the state is C(streaming).
      type: bool
    lag_bytes:
      description: Bytes between the primary's current WAL position and the replica's replay position.
      type: int
    lag_seconds:
      description: Replay lag in seconds (C(replay_lag); 0 when the replica has replayed everything).
      type: float
    write_lag_seconds:
      description: Seconds until WAL was written on the replica (C(write_lag)), or null.
      type: float
    flush_lag_seconds:
      description: Seconds until WAL was flushed on the replica (C(flush_lag)), or null.
      type: float
    slot:
      description: The replica's slot entry from RV(slots), or null when it streams without one.
      type: dict
  sample:
    - {name: dbfleet_pg2, client_addr: 198.18.0.12, state: streaming, sync_state: async, streaming: true,
       lag_bytes: 0, lag_seconds: 0.0, write_lag_seconds: null, flush_lag_seconds: null,
       slot: {name: dbfleet_pg2, active: true, wal_status: reserved, retained_bytes: 376}}
slots:
  description: The primary's physical replication slots.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Slot name.
      type: str
    active:
      description: Whether a replica streams from it now.
      type: bool
    wal_status:
      description: C(reserved), C(extended), C(unreserved) or C(lost).
      type: str
    retained_bytes:
      description: WAL the slot holds back on the primary's disk, in bytes.
      type: int
standby:
  description: On a standby, its own view; null on a primary.
  returned: always
  type: dict
  contains:
    receiver_status:
      description: Status of the WAL receiver (C(streaming), ...), or null when none runs.
      type: str
    sender_host:
      description: The primary it streams from.
      type: str
    lag_bytes:
      description: WAL received but not yet replayed, in bytes.
      type: int
    lag_seconds:
      description: Seconds since the last replayed transaction while WAL waits to be replayed; 0 when caught up.
      type: float
    replay_paused:
      description: Whether replay is paused (C(pg_wal_replay_pause())).
      type: bool
streaming:
  description: How many replicas stream (on a standby, 1 when it streams itself).
  returned: always
  type: int
max_lag_bytes:
  description: The largest lag in bytes.
  returned: always
  type: int
max_lag_seconds:
  description: The largest lag in seconds.
  returned: always
  type: float
problems:
  description: Each replica that is missing, not streaming or behind the thresholds, in words.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    connect, fetch_all, fetch_one, fetch_value, postgres_common_argument_spec,
)

PRIMARY_REPLICAS_SQL = """
SELECT r.application_name, host(r.client_addr), r.state, r.sync_state,
       pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::bigint,
       EXTRACT(EPOCH FROM r.replay_lag)::float8,
       EXTRACT(EPOCH FROM r.write_lag)::float8,
       EXTRACT(EPOCH FROM r.flush_lag)::float8
  FROM pg_stat_replication r
 ORDER BY r.application_name
"""
PRIMARY_SLOTS_SQL = """
SELECT slot_name, active, wal_status,
       pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint
  FROM pg_replication_slots WHERE slot_type = 'physical'
 ORDER BY slot_name
"""
STANDBY_SQL = """
SELECT (SELECT status FROM pg_stat_wal_receiver),
       (SELECT sender_host FROM pg_stat_wal_receiver),
       coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::bigint,
       CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
            THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END::float8,
       pg_is_wal_replay_paused()
"""


def replica_entries(replica_rows, slot_rows):
    """Replicas and slots from the primary's rows (pure function)."""
    slots = [dict(name=r[0], active=bool(r[1]), wal_status=r[2],
                  retained_bytes=int(r[3]) if r[3] is not None else None) for r in slot_rows]
    by_name = dict((s['name'], s) for s in slots)
    replicas = []
    for row in replica_rows:
        name, addr, state, sync_state, lag_bytes, replay, write, flush = row
        lag_bytes = int(lag_bytes) if lag_bytes is not None else None
        # replay_lag turns null a while after the replica caught up and WAL stopped.
        lag_seconds = replay if replay is not None else (0.0 if lag_bytes == 0 else None)
        replicas.append(dict(name=name, client_addr=addr, state=state, sync_state=sync_state,
                             streaming=state == 'streaming', lag_bytes=lag_bytes,
                             lag_seconds=lag_seconds, write_lag_seconds=write,
                             flush_lag_seconds=flush, slot=by_name.get(name)))
    return replicas, slots


def problems_of(replicas, standby, expected, min_streaming, max_bytes, max_seconds):
    """Problems in words (pure function)."""
    problems = []
    names = dict((r['name'], r) for r in replicas)
    for want in expected:
        if want not in names:
            problems.append('replica %s is not connected' % want)
        elif not names[want]['streaming']:
            problems.append('replica %s is %s, not streaming' % (want, names[want]['state']))
    streaming = sum(1 for r in replicas if r['streaming'])
    if standby is None and streaming < min_streaming:
        problems.append('%d replica(s) streaming, at least %d expected' % (streaming, min_streaming))
    entries = replicas if standby is None else [dict(standby, name='this standby')]
    for r in entries:
        if max_bytes is not None and r['lag_bytes'] is not None and r['lag_bytes'] > max_bytes:
            problems.append('%s is %d bytes behind (more than %d)' % (r['name'], r['lag_bytes'], max_bytes))
        if max_seconds is not None and r['lag_seconds'] is not None and r['lag_seconds'] > max_seconds:
            problems.append('%s lags %.3f s (more than %s s)' % (r['name'], r['lag_seconds'], max_seconds))
    return problems


def main():
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        expected=dict(type='list', elements='str', default=[]),
        min_streaming=dict(type='int', default=0),
        max_lag_bytes=dict(type='int'),
        max_lag_seconds=dict(type='float'),
        fail_on_problem=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    conn = connect(module, autocommit=True)
    in_recovery = fetch_value(conn, 'SELECT pg_is_in_recovery()')
    standby = None
    if in_recovery:
        row = fetch_one(conn, STANDBY_SQL)
        standby = dict(receiver_status=row[0], sender_host=row[1], lag_bytes=int(row[2]),
                       lag_seconds=float(row[3]) if row[3] is not None else None,
                       replay_paused=bool(row[4]))
        replicas, slots = [], []
    else:
        replicas, slots = replica_entries(fetch_all(conn, PRIMARY_REPLICAS_SQL),
                                          fetch_all(conn, PRIMARY_SLOTS_SQL))
    conn.close()

    entries = replicas if standby is None else [standby]
    lags_b = [e['lag_bytes'] for e in entries if e['lag_bytes'] is not None]
    lags_s = [e['lag_seconds'] for e in entries if e['lag_seconds'] is not None]
    streaming = (sum(1 for r in replicas if r['streaming']) if standby is None
                 else int(standby['receiver_status'] == 'streaming'))
    problems = problems_of(replicas, standby, p['expected'] if standby is None else [],
                           p['min_streaming'], p['max_lag_bytes'], p['max_lag_seconds'])
    if standby is not None and standby['receiver_status'] != 'streaming' and (
            p['max_lag_bytes'] is not None or p['max_lag_seconds'] is not None):
        problems.append('this standby does not stream (WAL receiver: %s)' % standby['receiver_status'])
    result = dict(changed=False, role='standby' if standby else 'primary', replicas=replicas,
                  slots=slots, standby=standby, streaming=streaming,
                  max_lag_bytes=max(lags_b) if lags_b else 0,
                  max_lag_seconds=max(lags_s) if lags_s else 0.0, problems=problems)
    if problems and p['fail_on_problem']:
        module.fail_json(msg='replication: ' + '; '.join(problems), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
