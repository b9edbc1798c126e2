#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: supabase_logical_sync
short_description: Keep a cutover target in step with Supabase by logical replication
version_added: 0.2.0
description:
  - The logical-replication mode of the cutover. The target's schema is restored first
    (M(darkreach.dbfleet.supabase_dump) with C(data=false),
    then M(darkreach.dbfleet.supabase_restore)); this module then carries the rows and
    keeps carrying them until the switch, so the write freeze lasts seconds whatever the
    size of the database.
  - V(present) creates a publication on the source for the application's tables
    (C(FOR TABLE), which the non-superuser C(postgres) role of hosted Supabase may do for
    the tables it owns) and a subscription on the target that copies the existing rows
    (C(copy_data)) and then streams every change. It refuses, before changing anything,
    tables whose UPDATE/DELETE logical replication cannot carry (no primary key and no
    replica identity; named in the message), a source with large objects, a source
    without C(wal_level=logical) or a free replication slot, a source role without
    C(REPLICATION), a pooler endpoint (port 6543 or C(*.pooler.supabase.com), as poolers do
    not carry the replication protocol; the direct endpoint is needed), and tables missing
    on the target.
  - V(synced) waits until every table has finished its initial copy and the source's
    replication slot has confirmed the source's WAL position taken when the task
    started (catch-up measured by LSN). With O(final) (the write freeze is on) it then
    sets the target's sequences from the source (logical replication does not carry
    sequences) and copies O(copy_tables) whole.
  - V(absent) drops the subscription on the target (which drops its replication slot on
    the source), any slot left on the source, and the publication on the source.
  - "What it cannot carry: DDL run on the source during the sync (the target keeps the
    restored schema; M(darkreach.dbfleet.cutover_verify) reports the difference), sequence
    values (set at the switch by O(final)), large objects (refused), tables without a
    primary key or replica identity (refused), tables the source role does not own
    (C(auth.users) on Supabase: copied whole at the switch through O(copy_tables))."
  - "What it changes on the source while it runs: one publication (a catalog entry;
    its tables must have a replica identity, which the preflight ensures), one logical
    replication slot that keeps WAL on the source until the target has confirmed it
    (a stalled target fills the source's disk), and WAL sender connections (one, plus
    one per table being copied). V(absent) removes all of it."
  - The subscription's connection string, password included, is stored in the
    target's C(pg_subscription) catalog (readable by superusers only) until V(absent).
author:
  - darkreach engineering (@darkreach)
extends_documentation_fragment:
  - darkreach.dbfleet.postgres
  - darkreach.dbfleet.postgres.source
attributes:
  check_mode:
    support: full
    description: Reads both sides and returns the statements that would run; never waits.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
options:
  state:
    description: The publication and subscription exist (V(present)), the target has caught up (V(synced)), or both are gone (V(absent)).
    type: str
    choices: [present, synced, absent]
    default: present
  name:
    description: Name of the publication, the subscription and its replication slot.
    type: str
    default: dbfleet_cutover
  schemas:
    description: The application schemas whose tables are published.
    type: list
    elements: str
    default: [public]
  subscription_host:
    description:
      - Host (and O(subscription_port)) where the target server reaches the source, when
        it differs from O(source.login_host).
    type: str
  subscription_port:
    description: Port where the target server reaches the source.
    type: int
  final:
    description:
      - With O(state=synced), the write freeze is on. After the wait, set the target's
        sequences from the source and copy O(copy_tables) whole.
    type: bool
    default: false
  copy_tables:
    description:
      - Tables that cannot be published (the source role does not own them) and are
        copied whole at the switch with O(final), when their contents differ. Triggers and
        foreign keys do not fire during the copy (C(session_replication_role=replica)).
        Tables missing on either side are ignored.
    type: list
    elements: str
    default: [auth.users]
  wait_timeout:
    description: Seconds O(state=synced) waits before failing.
    type: int
    default: 1800
'''

EXAMPLES = r'''
- name: Publish on Supabase, subscribe on the new primary
  darkreach.dbfleet.supabase_logical_sync:
    source: "{{ dbfleet_cutover_source }}"
    login_unix_socket: /var/run/postgresql
    login_db: darkreach
    state: present

- name: Wait until the new primary has caught up
  darkreach.dbfleet.supabase_logical_sync:
    source: "{{ dbfleet_cutover_source }}"
    login_unix_socket: /var/run/postgresql
    login_db: darkreach
    state: synced

- name: In the write freeze, the last changes, the sequences and auth.users
  darkreach.dbfleet.supabase_logical_sync:
    source: "{{ dbfleet_cutover_source }}"
    login_unix_socket: /var/run/postgresql
    login_db: darkreach
    state: synced
    final: true

- name: Drop the subscription, the slot and the publication
  darkreach.dbfleet.supabase_logical_sync:
    source: "{{ dbfleet_cutover_source }}"
    login_unix_socket: /var/run/postgresql
    login_db: darkreach
    state: absent
'''

RETURN = r'''
tables:
  description: The published tables.
  returned: always
  type: list
  elements: str
table_states:
  description: Number of tables per initial-copy state on the target (ready, copying, init, synced).
  returned: when the subscription exists
  type: dict
  sample: {"ready": 14}
lsn:
  description: The source's WAL position the wait was for (O(state=synced)).
  returned: when state is synced
  type: str
lag_bytes:
  description: Bytes of WAL the target's slot had still to confirm when the task started.
  returned: when state is synced
  type: int
waited:
  description: Seconds spent waiting for the target to catch up.
  returned: when state is synced
  type: float
sequences_set:
  description: Sequences set on the target from the source (O(final)).
  returned: when state is synced
  type: list
  elements: str
copied_tables:
  description: Tables of O(copy_tables) copied whole (O(final)), with their row counts.
  returned: when state is synced
  type: dict
queries:
  description: Statements that ran (or would run), each prefixed with the side it runs on; passwords masked.
  returned: always
  type: list
  elements: str
'''

import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_cutover import TRANSACTION_POOLER_PORT
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_logical import (
    application_tables,
    sequence_plan,
    sequence_values,
    subscription_conninfo,
    table_columns,
)
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    DbfleetPostgresError,
    connect,
    endpoint_argument_spec,
    fetch_all,
    fetch_value,
    mogrify,
    postgres_common_argument_spec,
    split_qualified_name,
    sql,
    to_text_error,
    validate_identifier,
)

STATE_NAMES = {'i': 'init', 'd': 'copying', 'f': 'copied', 's': 'synced', 'r': 'ready'}

# Same order-independent checksum as cutover_verify.
CHECKSUM = ("SELECT count(*), COALESCE(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint"
            "::numeric), 0)::text FROM {} AS t")


class Sides:
    """The two connections, and the statements run on each (or recorded in check mode)."""

    def __init__(self, module, source, target):
        self.module = module
        self.conn = dict(source=source, target=target)
        self.queries = []

    def execute(self, side, query, params=None, shown=None):
        conn = self.conn[side]
        with conn.cursor() as cur:
            self.queries.append('%s: %s' % (side, shown or mogrify(cur, query, params)))
            if self.module.check_mode:
                return
            try:
                cur.execute(query, params)
            except Exception as exc:  # pylint: disable=broad-except
                self.module.fail_json(msg='on the %s, %s failed: %s' % (
                    side, shown or mogrify(cur, query, params), to_text_error(exc)),
                    queries=self.queries)


def pooler_refusal(params, host, port):
    """A message when the subscription would go through a pooler (pure)."""
    host = host or params.get('login_host') or ''
    port = port or params.get('login_port')
    if port == TRANSACTION_POOLER_PORT or 'pooler.supabase.com' in host:
        return ('%s:%s is a Supabase pooler: logical replication needs the direct endpoint '
                '(db.<project-ref>.supabase.co:5432), because poolers do not carry the '
                'replication protocol' % (host, port))
    return None


def source_preflight(module, source, schemas):
    """The source can publish: wal_level, the role's REPLICATION, a free replication
    slot, no large objects, and every table with a replica identity. Returns the tables."""
    if fetch_value(source, 'SHOW wal_level') != 'logical':
        module.fail_json(msg='the source runs with wal_level=%s; logical replication needs '
                         'wal_level=logical (hosted Supabase has it)' % fetch_value(source, 'SHOW wal_level'))
    user, can = fetch_all(source, 'SELECT rolname, rolreplication OR rolsuper FROM pg_roles '
                                  'WHERE rolname = current_user')[0]
    if not can:
        module.fail_json(msg='the source role %s lacks the REPLICATION attribute that a '
                         'subscription needs (on Supabase, postgres has it)' % user)
    free = fetch_value(source, "SELECT current_setting('max_replication_slots')::int - count(*) "
                               "FROM pg_replication_slots")
    if free < 1:
        module.fail_json(msg='the source has no free replication slot (max_replication_slots '
                         'is reached); on Supabase the number depends on the compute size')
    blobs = fetch_value(source, 'SELECT count(*) FROM pg_largeobject_metadata')
    if blobs:
        module.fail_json(msg='the source holds %d large object(s); logical replication does not '
                         'carry large objects: use the dump mode' % blobs)
    tables = application_tables(source, schemas)
    if not tables:
        module.fail_json(msg='the source has no table in schema(s) %s' % ', '.join(schemas))
    refused = ['%s (%s)' % (t['name'], t['problem']) for t in tables if t['problem']]
    if refused:
        module.fail_json(msg='logical replication cannot carry UPDATE/DELETE of %s: publishing '
                         'them would make those statements fail on the source. Give each a '
                         'primary key or REPLICA IDENTITY FULL, or use the dump mode. '
                         'Nothing was changed.' % ', '.join(refused),
                         refused=[t['name'] for t in tables if t['problem']])
    not_owned = sorted(t['name'] for t in tables if t['owner'] != user)
    if not_owned and not fetch_value(source, 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user'):
        owners = fetch_all(source, 'SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r '
                                   'ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member '
                                   'WHERE u.rolname = current_user')
        member_of = set(r[0] for r in owners)
        not_owned = [t['name'] for t in tables if t['owner'] != user and t['owner'] not in member_of]
        if not_owned:
            module.fail_json(msg='the source role %s does not own %s: a publication may only '
                             'list tables its owner owns' % (user, ', '.join(not_owned)))
    return tables


def subscription(target, name):
    rows = fetch_all(target, """
        SELECT s.oid, s.subenabled, s.subslotname FROM pg_subscription s
          JOIN pg_database d ON d.oid = s.subdbid
         WHERE s.subname = %s AND d.datname = current_database()""", (name,))
    return rows[0] if rows else None


def table_states(target, sub_oid):
    states = {}
    for state, count in fetch_all(target, 'SELECT srsubstate, count(*) FROM pg_subscription_rel '
                                          'WHERE srsubid = %s GROUP BY 1', (sub_oid,)):
        states[STATE_NAMES.get(state, state)] = int(count)
    return states


def published_tables(source, name):
    if not fetch_value(source, 'SELECT count(*) FROM pg_publication WHERE pubname = %s', (name,)):
        return None
    return sorted('%s.%s' % r for r in fetch_all(
        source, 'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = %s', (name,)))


def table_list(tables):
    return sql.SQL(', ').join(sql.Identifier(t['schema'], t['table']) for t in tables)


def present(module, sides, p, schemas, result):
    source, target = sides.conn['source'], sides.conn['target']
    refusal = pooler_refusal(p['source'], p['subscription_host'], p['subscription_port'])
    if refusal:
        module.fail_json(msg=refusal)
    tables = source_preflight(module, source, schemas)
    result['tables'] = [t['name'] for t in tables]
    on_target = set('%s.%s' % r[:2] for r in fetch_all(target, """
        SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p')""", {'schemas': schemas}))
    missing = [t['name'] for t in tables if t['name'] not in on_target]
    if missing:
        module.fail_json(msg='the target lacks %s: restore the schema first (supabase_dump with '
                         'data=false, then supabase_restore)' % ', '.join(missing))
    if not fetch_value(target, "SELECT rolsuper OR pg_has_role(current_user, 'pg_create_subscription', 'MEMBER') "
                               "FROM pg_roles WHERE rolname = current_user"
                       if int(fetch_value(target, 'SHOW server_version_num')) >= 160000 else
                       'SELECT rolsuper FROM pg_roles WHERE rolname = current_user'):
        module.fail_json(msg='the target role may not create subscriptions (superuser, or '
                         'pg_create_subscription on PostgreSQL 16+)')
    name = sql.Identifier(p['name'])
    current = published_tables(source, p['name'])
    wanted = sorted(result['tables'])
    options = sql.SQL(' WITH (publish_via_partition_root = true)') if any(t['partitioned'] for t in tables) else sql.SQL('')
    pub_changed = False
    if current is None:
        sides.execute('source', sql.SQL('CREATE PUBLICATION {} FOR TABLE {}').format(name, table_list(tables)) + options)
        pub_changed = True
    elif current != wanted:
        sides.execute('source', sql.SQL('ALTER PUBLICATION {} SET TABLE {}').format(name, table_list(tables)))
        pub_changed = True
    sub = subscription(target, p['name'])
    if sub is None:
        conninfo, masked = subscription_conninfo(p['source'], p['subscription_host'], p['subscription_port'])
        stmt = sql.SQL('CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION {} WITH '
                       '(copy_data = true, create_slot = true, slot_name = {}, enabled = true)').format(
            name, sql.Literal(conninfo), name, sql.Literal(p['name']))
        shown = 'CREATE SUBSCRIPTION %s CONNECTION %s PUBLICATION %s WITH (copy_data = true, ' \
                'create_slot = true, slot_name = %s, enabled = true)' % (p['name'], masked, p['name'], p['name'])
        sides.execute('target', stmt, shown=shown)
    else:
        if not sub[1]:
            sides.execute('target', sql.SQL('ALTER SUBSCRIPTION {} ENABLE').format(name))
        subscribed = set('%s.%s' % r for r in fetch_all(target, """
            SELECT n.nspname, c.relname FROM pg_subscription_rel sr JOIN pg_class c ON c.oid = sr.srrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace WHERE sr.srsubid = %s""", (sub[0],)))
        if pub_changed or not set(wanted) <= subscribed:
            # new tables in the publication, or tables created again on the target
            sides.execute('target', sql.SQL('ALTER SUBSCRIPTION {} REFRESH PUBLICATION WITH (copy_data = true)').format(name))
    result['changed'] = bool(sides.queries)
    sub = subscription(target, p['name'])
    if sub:
        result['table_states'] = table_states(target, sub[0])


def lag(source, slot, lsn):
    """Bytes between ``lsn`` and what the slot has confirmed (None if the slot is missing)."""
    rows = fetch_all(source, 'SELECT pg_wal_lsn_diff(%s::pg_lsn, confirmed_flush_lsn) FROM '
                             'pg_replication_slots WHERE slot_name = %s', (lsn, slot))
    if not rows or rows[0][0] is None:
        return None
    return max(0, int(rows[0][0]))


def synced(module, sides, p, schemas, result):
    source, target = sides.conn['source'], sides.conn['target']
    sub = subscription(target, p['name'])
    if sub is None:
        if module.check_mode:
            result['warnings'] = ['no subscription %s yet (state=present runs first)' % p['name']]
            return
        module.fail_json(msg='the target has no subscription %s: run state=present first' % p['name'])
    result['tables'] = published_tables(source, p['name']) or []
    lsn = fetch_value(source, 'SELECT pg_current_wal_lsn()::text')
    slot = sub[2] or p['name']
    result.update(lsn=lsn, lag_bytes=lag(source, slot, lsn), waited=0.0, sequences_set=[], copied_tables={})
    started = time.time()
    while not module.check_mode:
        states = table_states(target, sub[0])
        behind = lag(source, slot, lsn)
        if behind is None:
            module.fail_json(msg='the replication slot %s is missing on the source' % slot, **result)
        if set(states) <= {'ready'} and behind == 0:
            break
        if time.time() - started > p['wait_timeout']:
            errors = fetch_all(target, 'SELECT apply_error_count, sync_error_count FROM '
                                       'pg_stat_subscription_stats WHERE subid = %s', (sub[0],))
            module.fail_json(msg='the target did not catch up within %d s: tables %s, %d bytes '
                             'behind %s, errors (apply, copy) %s; see the target\'s server log' % (
                                 p['wait_timeout'], states, behind, lsn, errors[0] if errors else 'n/a'),
                             **result)
        time.sleep(0.2)
    result['waited'] = round(time.time() - started, 3)
    result['table_states'] = table_states(target, sub[0])
    if not p['final']:
        return
    plan = sequence_plan(sequence_values(source, schemas), sequence_values(target, schemas))
    for seq, value, called in plan:
        sides.execute('target', 'SELECT setval(%s::regclass, %s, %s)', (seq, value, called))
    result['sequences_set'] = [seq for seq, dummy, dummy in plan]
    for name in p['copy_tables']:
        copied = copy_table(module, sides, name)
        if copied is not None:
            result['copied_tables'][name] = copied
    result['changed'] = bool(sides.queries)


def copy_table(module, sides, name):
    """Copy a table whole from the source when its contents differ; its row count, or
    None when it is the same (or missing on a side)."""
    source, target = sides.conn['source'], sides.conn['target']
    try:
        schema, table = split_qualified_name(name)
    except DbfleetPostgresError as exc:
        module.fail_json(msg=str(exc))
    regclass = '%s.%s' % (schema, table)
    if not all(fetch_value(c, 'SELECT to_regclass(%s) IS NOT NULL', (regclass,)) for c in (source, target)):
        return None
    ident = sql.Identifier(schema, table)
    sums = [fetch_all(c, sql.SQL(CHECKSUM).format(ident))[0] for c in (source, target)]
    if sums[0] == sums[1]:
        return None
    columns = sql.SQL(', ').join(sql.Identifier(c) for c in table_columns(source, regclass))
    sides.queries.append('target: DELETE FROM %s; COPY %s FROM the source (session_replication_role '
                         '= replica)' % (regclass, regclass))
    if module.check_mode:
        return int(sums[0][0])
    with tempfile.SpooledTemporaryFile(max_size=64 * 2 ** 20) as buf:
        with source.cursor() as cur:
            cur.copy_expert(sql.SQL('COPY (SELECT {} FROM {}) TO STDOUT').format(columns, ident).as_string(source), buf)
        buf.seek(0)
        target.autocommit = False  # one transaction: the table is never seen empty
        try:
            with target.cursor() as cur:
                cur.execute('SET LOCAL session_replication_role = replica')
                cur.execute(sql.SQL('DELETE FROM {}').format(ident))
                cur.copy_expert(sql.SQL('COPY {} ({}) FROM STDIN').format(ident, columns).as_string(target), buf)
            target.commit()
        except Exception as exc:  # pylint: disable=broad-except
            target.rollback()
            module.fail_json(msg='copying %s failed: %s' % (regclass, to_text_error(exc)))
        finally:
            target.autocommit = True
    return int(sums[0][0])


def absent(module, sides, p, result):
    source, target = sides.conn['source'], sides.conn['target']
    name = sql.Identifier(p['name'])
    sub = subscription(target, p['name'])
    if sub is not None:
        # DROP SUBSCRIPTION connects to the source and drops its slots there.
        sides.execute('target', sql.SQL('DROP SUBSCRIPTION {}').format(name))
    if sub is None or not module.check_mode:
        # a slot left behind (the subscription dropped without reaching the source)
        for slot, active in fetch_all(source, 'SELECT slot_name, active FROM pg_replication_slots '
                                              'WHERE slot_name = %s', (p['name'],)):
            if active:
                module.fail_json(msg='the replication slot %s on the source is in use by '
                                 'another subscriber; not dropped' % slot, queries=sides.queries)
            sides.execute('source', 'SELECT pg_drop_replication_slot(%s)', (slot,))
    if published_tables(source, p['name']) is not None:
        sides.execute('source', sql.SQL('DROP PUBLICATION {}').format(name))
    result['changed'] = bool(sides.queries)


def main():
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        source=endpoint_argument_spec(required=True),
        state=dict(type='str', default='present', choices=['present', 'synced', 'absent']),
        name=dict(type='str', default='dbfleet_cutover'),
        schemas=dict(type='list', elements='str', default=['public']),
        subscription_host=dict(type='str'),
        subscription_port=dict(type='int'),
        final=dict(type='bool', default=False),
        copy_tables=dict(type='list', elements='str', default=['auth.users']),
        wait_timeout=dict(type='int', default=1800),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    try:
        validate_identifier(p['name'], 'name')
        schemas = [validate_identifier(s, 'schema') for s in p['schemas']]
    except DbfleetPostgresError as exc:
        module.fail_json(msg=str(exc))
    source = connect(module, params=p['source'], what='source database', autocommit=True)
    target = connect(module, what='target database', autocommit=True)
    sides = Sides(module, source, target)
    result = dict(changed=False, tables=[], queries=sides.queries)
    if p['state'] == 'present':
        present(module, sides, p, schemas, result)
    elif p['state'] == 'synced':
        synced(module, sides, p, schemas, result)
    else:
        absent(module, sides, p, result)
    source.close()
    target.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
