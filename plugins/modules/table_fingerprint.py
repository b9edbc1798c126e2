#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: table_fingerprint
short_description: Row counts and checksums of a database's tables, optionally at a named restore point
version_added: 0.1.0
description:
  - Reads, in one repeatable-read snapshot, the row count and the content checksum of every
    table in the given schemas (the same order-independent checksum as
    M(darkreach.dbfleet.cutover_verify)), with the server's time, LSN and WAL file name.
  - With O(restore_point), first creates a named restore point (C(pg_create_restore_point))
    in that snapshot's transaction, so that a point-in-time restore to that name lands on the
    state the fingerprint describes. The restore drill restores to it and compares.
  - With O(compare_to), compares the fingerprint with an earlier one (for example the
    source's at the restore point) and fails on a difference unless
    O(fail_on_difference=false).
  - A restore point is created in the window between the snapshot and the WAL record;
    transactions committing inside that window (microseconds) would show as a difference.
author:
  - darkreach engineering (@darkreach)
extends_documentation_fragment:
  - darkreach.dbfleet.postgres
attributes:
  check_mode:
    support: full
    description: In check mode no restore point is created; the fingerprint is read as usual.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
options:
  schemas:
    description: The schemas whose tables are read.
    type: list
    elements: str
    default: [public]
  restore_point:
    description:
      - Name of a restore point to create in the snapshot's transaction. Needs a primary and
        C(wal_level) replica or logical.
    type: str
  compare_to:
    description:
      - An earlier result's RV(tables) to compare with.
    type: dict
  fail_on_difference:
    description: Fail when O(compare_to) differs.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Mark the source and read its tables at the mark
  darkreach.dbfleet.table_fingerprint:
    login_db: darkreach
    restore_point: drill-20260101T000000
  become: true
  become_user: postgres
  register: mark

- name: Compare the restored copy with the mark
  darkreach.dbfleet.table_fingerprint:
    login_db: darkreach
    compare_to: "{{ mark.tables }}"
  become: true
  become_user: postgres
'''

RETURN = r'''
tables:
  description: Per qualified table name, the row count and the checksum.
  returned: always
  type: dict
  sample: {"public.primes": {"rows": 1200, "checksum": "123456789"}}
rows:
  description: Rows in all tables.
  returned: always
  type: int
time:
  description: The server's clock in the snapshot (ISO 8601 with time zone).
  returned: always
  type: str
lsn:
  description: The WAL position (of the restore point when one was created).
  returned: always
  type: str
wal_file:
  description: The WAL segment holding RV(lsn) (empty on a server in recovery).
  returned: always
  type: str
last_replay_time:
  description: On a server restored or in recovery, the commit time of the last transaction replayed (empty otherwise).
  returned: always
  type: str
differences:
  description: With O(compare_to), the tables that differ (missing on either side, row count, checksum).
  returned: always
  type: list
  elements: dict
queries:
  description: The statements that ran (or would run).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    DbfleetPostgresError,
    connect,
    fetch_all,
    fetch_one,
    postgres_common_argument_spec,
    sql,
    to_text_error,
    validate_identifier,
)

TABLES = """
    SELECT n.nspname, c.relname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'm')
       AND NOT c.relispartition
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY 1, 2"""

# The checksum of darkreach.dbfleet.cutover_verify: sum of the first 64 bits of md5(row text).
CHECKSUM = ("SELECT count(*), COALESCE(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint"
            "::numeric), 0)::text FROM {} AS t")

STATE = """
    SELECT now()::text,
           CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END::text,
           CASE WHEN pg_is_in_recovery() THEN '' ELSE pg_walfile_name(pg_current_wal_lsn()) END,
           COALESCE(pg_last_xact_replay_timestamp()::text, '')"""


def compare(before, after):
    """Tables that differ between two fingerprints (pure function)."""
    diffs = []
    for name in sorted(set(before) | set(after)):
        if name not in after:
            diffs.append(dict(name=name, problem='missing_on_target', source=before[name]['rows'], target=None))
        elif name not in before:
            diffs.append(dict(name=name, problem='missing_on_source', source=None, target=after[name]['rows']))
        elif int(before[name]['rows']) != int(after[name]['rows']):
            diffs.append(dict(name=name, problem='row_count', source=before[name]['rows'],
                              target=after[name]['rows']))
        elif str(before[name]['checksum']) != str(after[name]['checksum']):
            diffs.append(dict(name=name, problem='checksum', source=before[name]['checksum'],
                              target=after[name]['checksum']))
    return diffs


def main():
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        schemas=dict(type='list', elements='str', default=['public']),
        restore_point=dict(type='str'),
        compare_to=dict(type='dict'),
        fail_on_difference=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        schemas = [validate_identifier(s, 'schema') for s in module.params['schemas']]
    except DbfleetPostgresError as exc:
        module.fail_json(msg=str(exc))
    point = module.params['restore_point']
    if point is not None and (not point or len(point) > 63):
        module.fail_json(msg='restore_point must be a name of 1 to 63 characters')

    conn = connect(module)
    queries = []
    changed = False
    lsn = None
    try:
        conn.set_session(isolation_level='REPEATABLE READ')
        cur = conn.cursor()
        # The first statement takes the snapshot; the restore point's WAL record follows it.
        if point:
            query = 'SELECT pg_create_restore_point(%s)::text'
            queries.append(cur.mogrify(query, (point,)).decode())
            if not module.check_mode:
                cur.execute(query, (point,))
                lsn = cur.fetchone()[0]
                changed = True
        now, current_lsn, wal_file, replayed = fetch_one(conn, STATE)
        tables = {}
        for schema, name in fetch_all(conn, TABLES, {'schemas': schemas}):
            rows, checksum = fetch_one(conn, sql.SQL(CHECKSUM).format(sql.Identifier(schema, name)))
            tables['%s.%s' % (schema, name)] = dict(rows=int(rows), checksum=checksum)
        conn.commit()
    except Exception as exc:  # pylint: disable=broad-except
        conn.rollback()
        module.fail_json(msg='reading the fingerprint failed: %s' % to_text_error(exc), queries=queries)
    finally:
        conn.close()

    if lsn and not wal_file:
        wal_file = ''
    diffs = compare(module.params['compare_to'], tables) if module.params['compare_to'] is not None else []
    result = dict(changed=changed, tables=tables, rows=sum(t['rows'] for t in tables.values()),
                  time=now, lsn=lsn or current_lsn, wal_file=wal_file, last_replay_time=replayed,
                  differences=diffs, queries=queries)
    if diffs and module.params['fail_on_difference']:
        names = ', '.join('%s (%s: %s vs %s)' % (d['name'], d['problem'], d['source'], d['target'])
                          for d in diffs[:10])
        module.fail_json(msg='the tables differ: %s' % names, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
