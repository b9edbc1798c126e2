#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: postgres_write_probe
short_description: Write one row at a time for a while and report pauses and lost writes
version_added: 0.1.0
description:
  - A client that measures what an operation (a switchover, a failover, a rolling restart)
    costs the application. For O(duration) seconds it inserts one row every O(interval)
    seconds into O(table), each in its own transaction, reconnecting after every error,
    and remembers the id of every insert the server acknowledged (the commit returned).
  - At the end it reads the acknowledged ids back, waiting up to O(verify_timeout) seconds
    for the server to answer, and reports the acknowledged writes that are missing
    (RV(lost)) and the longest time without an acknowledged write (RV(longest_pause_s)), the
    pause a client of the application would have seen.
  - Run it with C(async) (and C(poll) set to 0) beside the operation, then collect it with
    M(ansible.builtin.async_status). Point it at the endpoint the application uses
    (PgBouncer), so the measured pause is the application's.
  - It creates O(table) (C(id bigserial), C(label), C(at)) if it is missing and leaves the
    rows there (each run's O(label) tells them apart); drop the table when done with it.
author:
  - darkreach engineering (@darkreach)
extends_documentation_fragment:
  - darkreach.dbfleet.postgres
attributes:
  check_mode:
    support: none
    description: It exists to write; in check mode Ansible skips it.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
options:
  table:
    description: The probe's table, C(schema.name) or C(name) in C(public).
    type: str
    default: dbfleet_write_probe
  label:
    description: Text stored with every row of this run.
    type: str
    default: probe
  duration:
    description: Seconds to keep writing. Must be positive.
    type: float
    default: 60
  interval:
    description: Seconds between two writes (and between two reconnection attempts).
    type: float
    default: 0.1
  stop_file:
    description:
      - Stop writing as soon as this file exists on the host (the playbook that runs the
        operation creates it when done), instead of at the end of O(duration).
      - The probe removes a stale file of that name when it starts.
    type: path
  statement_timeout_ms:
    description: Statement timeout of each insert, so a write to a dead server fails instead of hanging.
    type: int
    default: 3000
  verify_timeout:
    description: Seconds to keep trying to read the acknowledged ids back at the end.
    type: float
    default: 120
notes:
  - The login options' O(connect_timeout) applies to every reconnection; give a small value
    (2 or 3 seconds), so that a dead endpoint costs little of the measured pause.
'''

EXAMPLES = r'''
- name: Write through PgBouncer during the switchover
  darkreach.dbfleet.postgres_write_probe:
    login_host: 127.0.0.1
    login_port: 6432
    login_user: darkreach
    login_password: "{{ dbfleet_app_password }}"
    login_db: darkreach
    connect_timeout: 2
    label: switchover
    duration: 120
    stop_file: /run/dbfleet-probe.stop
  async: 300
  poll: 0
  register: probe_job

- name: Collect the probe
  ansible.builtin.async_status:
    jid: "{{ probe_job.ansible_job_id }}"
  register: probe
  until: probe.finished
  retries: 300
  delay: 1
'''

RETURN = r'''
table:
  description: The probe's table, schema-qualified.
  returned: always
  type: str
  sample: public.dbfleet_write_probe
attempts:
  description: Inserts tried.
  returned: always
  type: int
  sample: 1180
acknowledged:
  description: Inserts whose commit returned.
  returned: always
  type: int
  sample: 1150
errors:
  description: Inserts and connections that failed.
  returned: always
  type: int
  sample: 30
lost:
  description: Acknowledged inserts that are not in the table at the end (must be 0).
  returned: always
  type: int
  sample: 0
lost_ids:
  description: The first 20 lost ids.
  returned: always
  type: list
  elements: int
  sample: []
longest_pause_s:
  description:
    - The longest time between two acknowledged writes, or from the start to the first, or
      from the last to the end, in seconds.
  returned: always
  type: float
  sample: 4.7
pause_started:
  description: Unix time of the acknowledged write before the longest pause (or the start).
  returned: always
  type: float
first_error:
  description: The first error seen, on one line (empty without errors).
  returned: always
  type: str
  sample: "server closed the connection unexpectedly"
elapsed_s:
  description: Seconds from the first write to the end of the writing.
  returned: always
  type: float
'''

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    DbfleetPostgresError, connection_params, ensure_psycopg2, postgres_common_argument_spec,
    qualified, split_qualified_name, to_text_error, psycopg2, sql,
)


def longest_gap(start, acks, end):
    """(seconds, gap start) of the longest span without an acknowledgement (pure).

    ``acks`` are the acknowledgement times in order; the spans are start -> first ack,
    between consecutive acks, and last ack -> end.
    """
    points = [start] + list(acks) + [end]
    best, at = 0.0, start
    for before, after in zip(points, points[1:]):
        if after - before > best:
            best, at = after - before, before
    return round(best, 3), at


def open_connection(kw, statement_timeout_ms):
    conn = psycopg2.connect(**kw)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute('SET statement_timeout = %s', (int(statement_timeout_ms),))
    return conn


def close_quietly(conn):
    if conn is not None:
        try:
            conn.close()
        except psycopg2.Error:
            pass


def write_until(module, kw, insert, label):
    """Insert one row every interval until duration or the stop file; returns the log."""
    p = module.params
    stop_file = p['stop_file']
    log = dict(attempts=0, errors=0, first_error='', acked_ids=[], ack_times=[])
    conn = None
    start = time.time()
    deadline = start + p['duration']
    while time.time() < deadline and not (stop_file and os.path.exists(stop_file)):
        tick = time.time()
        log['attempts'] += 1
        try:
            if conn is None:
                conn = open_connection(kw, p['statement_timeout_ms'])
            with conn.cursor() as cur:
                cur.execute(insert, (label,))
                row_id = cur.fetchone()[0]
            log['acked_ids'].append(row_id)
            log['ack_times'].append(time.time())
        except psycopg2.Error as exc:
            log['errors'] += 1
            if not log['first_error']:
                log['first_error'] = to_text_error(exc)
            close_quietly(conn)
            conn = None
        time.sleep(max(0.0, p['interval'] - (time.time() - tick)))
    close_quietly(conn)
    log['start'], log['end'] = start, time.time()
    return log


def read_back(module, kw, table, ids):
    """The acknowledged ids that are not in the table, retrying while the server is away."""
    deadline = time.time() + module.params['verify_timeout']
    while True:
        try:
            conn = open_connection(kw, 30000)
            try:
                with conn.cursor() as cur:
                    cur.execute(sql.SQL('SELECT id FROM {} WHERE id = ANY(%s)').format(table), (ids,))
                    found = set(r[0] for r in cur.fetchall())
            finally:
                close_quietly(conn)
            return [i for i in ids if i not in found]
        except psycopg2.Error as exc:
            if time.time() > deadline:
                module.fail_json(msg='could not read the acknowledged writes back within %ss: %s'
                                 % (module.params['verify_timeout'], to_text_error(exc)))
            time.sleep(1)


def main():
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        table=dict(type='str', default='dbfleet_write_probe'),
        label=dict(type='str', default='probe'),
        duration=dict(type='float', default=60),
        interval=dict(type='float', default=0.1),
        stop_file=dict(type='path'),
        statement_timeout_ms=dict(type='int', default=3000),
        verify_timeout=dict(type='float', default=120),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=False)
    ensure_psycopg2(module)
    p = module.params
    try:
        schema, name = split_qualified_name(p['table'])
    except DbfleetPostgresError as exc:
        module.fail_json(msg=str(exc))
    if p['duration'] <= 0 or p['interval'] <= 0:
        module.fail_json(msg='duration and interval must be positive (got %s and %s)'
                         % (p['duration'], p['interval']))
    table = qualified(schema, name)
    kw = connection_params(p)
    if p['stop_file'] and os.path.exists(p['stop_file']):
        os.unlink(p['stop_file'])

    try:
        conn = open_connection(kw, 30000)
        with conn.cursor() as cur:
            cur.execute(sql.SQL('CREATE TABLE IF NOT EXISTS {} (id bigserial PRIMARY KEY, label text NOT NULL, '
                                'at timestamptz NOT NULL DEFAULT clock_timestamp())').format(table))
        close_quietly(conn)
    except psycopg2.Error as exc:
        module.fail_json(msg='cannot reach %s:%s or create the probe table %s.%s: %s' % (
            kw.get('host', '(local socket)'), kw.get('port', 5432), schema, name, to_text_error(exc)))

    insert = sql.SQL('INSERT INTO {} (label) VALUES (%s) RETURNING id').format(table)
    log = write_until(module, kw, insert, p['label'])
    lost = read_back(module, kw, table, log['acked_ids']) if log['acked_ids'] else []
    pause, pause_at = longest_gap(log['start'], log['ack_times'], log['end'])
    module.exit_json(
        changed=log['attempts'] > 0, table='%s.%s' % (schema, name), attempts=log['attempts'],
        acknowledged=len(log['acked_ids']), errors=log['errors'], lost=len(lost),
        lost_ids=lost[:20], longest_pause_s=pause, pause_started=round(pause_at, 3),
        first_error=log['first_error'], elapsed_s=round(log['end'] - log['start'], 3))


if __name__ == '__main__':
    main()
