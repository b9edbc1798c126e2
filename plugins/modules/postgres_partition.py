#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: postgres_partition
short_description: Range partitions by time for a PostgreSQL table, without pg_partman
version_added: 0.1.0
description:
  - Converts a plain table into one partitioned by range on a time column, keeping every
    row, and keeps its partitions ahead of time and within a retention window, for
    databases where pg_partman is not available (hosted Supabase).
  - 'Conversion, in one transaction holding an C(ACCESS EXCLUSIVE) lock on the table: the
    table is renamed, a partitioned table with its name, columns, defaults, check
    constraints, identity and comments is created, partitions covering every existing row
    (and O(premake) ahead) are created, the rows are moved, the old table is dropped, then
    the primary key (with the time column added when it lacks it), the other indexes, the
    identity sequence''s name and position, the grants, the row level security flags and
    the policies are put back. A table that other objects depend on (views, foreign keys
    to it, publications, triggers) or with a unique index without the time column other
    than the primary key is refused before anything changes.'
  - 'Maintenance: the partition arithmetic lives in the database, in PL/pgSQL functions the
    module installs in O(maintenance_schema) with a configuration table
    C(partition_config): C(partition_maintain(schema, table)) creates the partitions up to
    O(premake) intervals after now and drops those whose upper bound is older than now minus
    O(retention). The module calls it after conversion; a scheduled job calls
    C(SELECT * FROM <maintenance_schema>.partition_maintain_all()) (a systemd timer running
    psql, or pg_cron) so both compute the same partitions.'
  - Bounds are C(date_bin(interval, ts, '2000-01-03 00:00:00+00')) in UTC (weekly partitions
    run Monday 00:00 UTC to Monday 00:00 UTC); names are C(<table>_pYYYYMMDD), the lower
    bound in UTC (C(_pYYYYMMDD_HH24MI) for intervals that are not whole days).
  - New partitions have no grants of their own and row level security enabled without
    policies, so they are read through the parent (and its policies) only.
  - Refuses, before any change, a table or time column that does not exist, a column that
    is not a timestamp or date, an interval that does not parse, has a month part or is
    shorter than an hour, and a retention shorter than one interval.
  - 'O(state=absent) does the reverse, the same way: a partitioned table becomes a plain table
    with the same name, columns, defaults, constraints (the primary key as it is, for example
    C((id, ts)) after a conversion), indexes, identity, grants, policies and row level security,
    holding every row of every partition, in one transaction; its row in C(partition_config)
    goes. A plain table is left alone. Phase 3 uses it before TimescaleDB makes the table a
    hypertable (TimescaleDB refuses a natively partitioned table).'
author:
  - darkreach engineering (@darkreach)
extends_documentation_fragment:
  - darkreach.dbfleet.postgres
attributes:
  check_mode:
    support: full
    description: >-
      Reports what would change and the statements in RV(queries); on a table already
      partitioned it asks the maintenance function for its plan without running it.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
options:
  table:
    description: The table, C(schema.name) or C(name) in C(public).
    type: str
    required: true
  column:
    description:
      - The time column partitioned on (C(timestamptz), C(timestamp) or C(date)).
      - Required with O(state=present); not used with O(state=absent).
    type: str
  state:
    description:
      - V(present) partitions the table (or keeps its partitions); V(absent) merges a
        partitioned table's partitions back into one plain table.
    type: str
    choices: [present, absent]
    default: present
  interval:
    description: Length of one partition, a PostgreSQL interval without months or years.
    type: str
    default: 1 week
  premake:
    description: How many partitions after the current one exist ahead of time.
    type: int
    default: 4
  retention:
    description:
      - Partitions whose upper bound is older than now minus this interval are dropped
        (with their rows). At least one O(interval). Omit to keep every partition.
    type: str
  maintenance_schema:
    description: The schema of the maintenance functions and of C(partition_config) (created when missing).
    type: str
    default: dbfleet
'''

EXAMPLES = r'''
- name: Weekly partitions for metric_samples, 4 weeks ahead, 30 days kept
  darkreach.dbfleet.postgres_partition:
    login_host: db.example.supabase.co
    login_password: "{{ supabase_password }}"
    login_db: postgres
    table: public.metric_samples
    column: ts
    interval: 1 week
    premake: 4
    retention: 30 days

# The scheduled job (systemd timer or pg_cron) runs the same arithmetic:
#   psql -c 'SELECT * FROM dbfleet.partition_maintain_all()'

- name: One plain table again, every row of every partition kept (before create_hypertable)
  darkreach.dbfleet.postgres_partition:
    login_db: darkreach
    login_unix_socket: /var/run/postgresql
    table: public.metric_samples
    state: absent
'''

RETURN = r'''
converted:
  description:
    - Whether the table was (or, in check mode, would be) converted from a plain table
      (O(state=present)) or into one (O(state=absent)).
  returned: always
  type: bool
rows_moved:
  description: Rows moved into the partitions (or out of them) by the conversion (0 when none ran).
  returned: always
  type: int
created:
  description: Partitions created (or that would be), with their bounds.
  returned: always
  type: list
  elements: dict
  sample: [{name: metric_samples_p20261207, from: "2026-12-07 00:00:00+00", to: "2026-12-14 00:00:00+00"}]
dropped:
  description: Partitions dropped past the retention (or that would be).
  returned: always
  type: list
  elements: dict
interval:
  description: The interval as the server writes it.
  returned: always
  type: str
  sample: 7 days
queries:
  description: The statements run (or, in check mode, that would run).
  returned: always
  type: list
  elements: str
'''

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    DbfleetPostgresError, Executor, TIME_TYPES, connect, fetch_all, fetch_one, fetch_value,
    ident, normalize_interval, postgres_common_argument_spec, qualified, split_qualified_name,
    to_text_error, validate_identifier, psycopg2, sql,
)
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_partition import (
    check_spans, config_table_sql, maintenance_sql,
)

OLD_SUFFIX = '__dbfleet_unpartitioned'
PARTITIONED_SUFFIX = '__dbfleet_partitioned'
ON_ONLY = re.compile(r' ON ONLY ')


def interval_parts(conn, text):
    """(seconds of the day and time part, months of the month part) of a server-parsed
    interval (EXTRACT(EPOCH) counts a month as 30 days; the month part is taken out)."""
    row = fetch_one(conn, 'SELECT (EXTRACT(YEAR FROM i) * 12 + EXTRACT(MONTH FROM i))::int, '
                          'EXTRACT(EPOCH FROM i)::float8 FROM (SELECT %s::interval AS i) AS x', (text,))
    months = int(row[0])
    return float(row[1]) - months * 30 * 86400, months


def table_info(conn, schema, table, column):
    rel = fetch_one(conn, "SELECT c.oid, c.relkind, c.relrowsecurity, c.relforcerowsecurity, "
                          "pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE n.nspname = %s AND c.relname = %s", (schema, table))
    if rel is None:
        raise DbfleetPostgresError('table %s.%s does not exist in database %s' % (
            schema, table, fetch_value(conn, 'SELECT current_database()')))
    if rel[1] not in ('r', 'p'):
        raise DbfleetPostgresError('%s.%s is not a table (relkind %s)' % (schema, table, rel[1]))
    col = fetch_one(conn, "SELECT format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
                          "WHERE attrelid = %s AND attname = %s AND attnum > 0 AND NOT attisdropped",
                    (rel[0], column))
    if col is None:
        have = [r[0] for r in fetch_all(conn, "SELECT attname FROM pg_attribute WHERE attrelid = %s "
                                              "AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (rel[0],))]
        raise DbfleetPostgresError('table %s.%s has no column %s (it has %s)' % (
            schema, table, column, ', '.join(have)))
    if col[0] not in TIME_TYPES:
        raise DbfleetPostgresError('column %s of %s.%s is %s, not a timestamp or date' % (
            column, schema, table, col[0]))
    return dict(oid=rel[0], kind=rel[1], rls=rel[2], force_rls=rel[3], owner=rel[4], notnull=col[1])


def partition_key(conn, oid):
    return fetch_one(conn, "SELECT p.partstrat, array_agg(a.attname ORDER BY k.ord) "
                           "FROM pg_partitioned_table p, unnest(p.partattrs) WITH ORDINALITY AS k(attnum, ord) "
                           "JOIN pg_attribute a ON a.attnum = k.attnum WHERE p.partrelid = %s AND a.attrelid = %s "
                           "GROUP BY p.partstrat", (oid, oid))


def conversion_blockers(conn, oid, column):
    """Why the table cannot be converted here (a list of texts, empty when it can);
    ``column`` None: into a plain table, where any unique index is fine."""
    why = []
    for (name,) in fetch_all(conn, "SELECT DISTINCT v.oid::regclass::text FROM pg_depend d "
                                   "JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class v ON v.oid = w.ev_class "
                                   "WHERE d.refobjid = %s AND d.classid = 'pg_rewrite'::regclass "
                                   "AND v.oid <> %s", (oid, oid)):
        why.append('view %s depends on it' % name)
    for (name, rel) in fetch_all(conn, "SELECT conname, conrelid::regclass::text FROM pg_constraint "
                                       "WHERE confrelid = %s AND contype = 'f'", (oid,)):
        why.append('foreign key %s of %s references it' % (name, rel))
    for (name,) in fetch_all(conn, "SELECT conname FROM pg_constraint WHERE conrelid = %s AND contype IN ('f', 'x')",
                             (oid,)):
        why.append('it has foreign key or exclusion constraint %s' % name)
    for (name,) in fetch_all(conn, "SELECT p.pubname FROM pg_publication_rel r JOIN pg_publication p "
                                   "ON p.oid = r.prpubid WHERE r.prrelid = %s", (oid,)):
        why.append('it is in publication %s' % name)
    for (name,) in fetch_all(conn, "SELECT tgname FROM pg_trigger WHERE tgrelid = %s AND NOT tgisinternal", (oid,)):
        why.append('it has trigger %s' % name)
    unique_without_column = [] if column is None else fetch_all(
        conn, "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
              "WHERE i.indrelid = %s AND i.indisunique AND NOT i.indisprimary "
              "AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = %s "
              "AND a.attname = %s AND a.attnum = ANY (i.indkey))", (oid, oid, column))
    for (name,) in unique_without_column:
        why.append('unique index %s does not contain %s' % (name, column))
    return why


def acl_statements(conn, src_oid, dst, kind='TABLE'):
    """REVOKE/GRANT statements that give ``dst`` the grants ``src_oid`` has (owner excluded)."""
    stmts = []
    rows = fetch_all(conn, "SELECT a.grantee, a.privilege_type, a.is_grantable FROM pg_class c, "
                           "aclexplode(c.relacl) a WHERE c.oid = %s AND a.grantee <> c.relowner "
                           "ORDER BY 1, 2", (src_oid,))
    for grantee, privilege, grantable in rows:
        who = sql.SQL('PUBLIC') if grantee == 0 else ident(fetch_value(conn, 'SELECT pg_get_userbyid(%s)', (grantee,)))
        stmts.append(sql.SQL('GRANT {} ON {} {} TO {}{}').format(
            sql.SQL(privilege), sql.SQL(kind), dst, who, sql.SQL(' WITH GRANT OPTION' if grantable else '')))
    return stmts


def revoke_all(conn, oid, dst, kind='TABLE'):
    """REVOKE ALL from everyone but the owner on the object with ``oid`` (for ``dst``)."""
    stmts = []
    for (grantee,) in fetch_all(conn, "SELECT DISTINCT a.grantee FROM pg_class c, aclexplode(c.relacl) a "
                                      "WHERE c.oid = %s AND a.grantee <> c.relowner ORDER BY 1", (oid,)):
        who = sql.SQL('PUBLIC') if grantee == 0 else ident(fetch_value(conn, 'SELECT pg_get_userbyid(%s)', (grantee,)))
        stmts.append(sql.SQL('REVOKE ALL ON {} {} FROM {}').format(sql.SQL(kind), dst, who))
    return stmts


def policy_statements(conn, oid, dst):
    cmds = {'r': 'SELECT', 'a': 'INSERT', 'w': 'UPDATE', 'd': 'DELETE', '*': 'ALL'}
    stmts = []
    rows = fetch_all(conn, "SELECT polname, polpermissive, polcmd, "
                           "ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END "
                           "      FROM unnest(polroles) AS r), "
                           "pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid) "
                           "FROM pg_policy WHERE polrelid = %s ORDER BY polname", (oid,))
    for name, permissive, cmd, roles, qual, check in rows:
        to = sql.SQL(', ').join(sql.SQL('PUBLIC') if r == 'public' else ident(r) for r in roles)
        text = sql.SQL('CREATE POLICY {} ON {} AS {} FOR {} TO {}').format(
            ident(name), dst, sql.SQL('PERMISSIVE' if permissive else 'RESTRICTIVE'), sql.SQL(cmds[cmd]), to)
        if qual is not None:
            text += sql.SQL(' USING (' + qual + ')')  # text from pg_get_expr (the catalog)
        if check is not None:
            text += sql.SQL(' WITH CHECK (' + check + ')')
        stmts.append(text)
    return stmts


def convert(conn, run, schema, table, column, info, mschema, check_mode):
    """Plain table -> partitioned table, rows moved; statements go through ``run``."""
    return rebuild(conn, run, schema, table, column, info, mschema, check_mode)


def rebuild(conn, run, schema, table, column, info, mschema, check_mode):
    """The table rebuilt under its own name with every row, partitioned by range on
    ``column`` or, with ``column`` None, as one plain table (from a partitioned one). The
    same steps both ways: rename, CREATE TABLE (LIKE ...), rows moved, the old table (and
    its partitions) dropped, then identity, keys, indexes, comment, owner, grants, policies
    and row level security put back. Statements go through ``run``."""
    oid = info['oid']
    target = qualified(schema, table)
    suffix = OLD_SUFFIX if column is not None else PARTITIONED_SUFFIX
    old_name = (table[:63 - len(suffix)] + suffix)
    old = qualified(schema, old_name)
    cols = [r[0] for r in fetch_all(conn, "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 "
                                          "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum", (oid,))]
    always = fetch_value(conn, "SELECT count(*) FROM pg_attribute WHERE attrelid = %s AND attidentity = 'a' "
                               "AND NOT attisdropped", (oid,))
    idents = fetch_all(conn, "SELECT a.attname, pg_get_serial_sequence(%s, a.attname) FROM pg_attribute a "
                             "WHERE a.attrelid = %s AND a.attidentity <> '' AND NOT a.attisdropped",
                       ('%s.%s' % (sql.Identifier(schema).as_string(conn), sql.Identifier(table).as_string(conn)), oid))
    pk = fetch_one(conn, "SELECT c.conname, ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o) "
                         "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o) "
                         "FROM pg_constraint c JOIN pg_index i ON i.indexrelid = c.conindid "
                         "WHERE c.conrelid = %s AND c.contype = 'p'", (oid,))
    # A partitioned table's indexes read "ON ONLY <table>"; the rebuilt table's are ordinary.
    index_defs = [ON_ONLY.sub(' ON ', r[0], count=1)
                  for r in fetch_all(conn, "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
                                           "WHERE i.indrelid = %s AND NOT i.indisprimary "
                                           "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                                           "ORDER BY i.indexrelid", (oid,))]
    con_defs = fetch_all(conn, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s "
                               "AND contype = 'u' ORDER BY conname", (oid,))
    comment = fetch_value(conn, "SELECT obj_description(%s, 'pg_class')", (oid,))
    if column is None:
        bounds = (None, None, fetch_value(conn, sql.SQL('SELECT count(*) FROM {}').format(target)))
    else:
        bounds = fetch_one(conn, sql.SQL('SELECT min({c}), max({c}), count(*) FROM {t}').format(
            c=ident(column), t=target))
    policies = policy_statements(conn, oid, target)
    grants = acl_statements(conn, oid, target)

    run.execute(sql.SQL('LOCK TABLE {} IN ACCESS EXCLUSIVE MODE').format(target))
    run.execute(sql.SQL('ALTER TABLE {} RENAME TO {}').format(target, ident(old_name)))
    like = sql.SQL('CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY '
                   'INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)').format(target, old)
    if column is None:
        run.execute(like)
        planned = []
    else:
        run.execute(like + sql.SQL(' PARTITION BY RANGE ({})').format(ident(column)))
        if not info['notnull']:
            run.execute(sql.SQL('ALTER TABLE {} ALTER COLUMN {} SET NOT NULL').format(target, ident(column)))
        planned = run.execute(sql.SQL('SELECT action, partition_table, range_from::text, range_to::text '
                                      'FROM {}.partition_maintain(%s, %s, p_cover_from => %s, p_cover_to => %s, '
                                      'p_keep_all => true)').format(ident(mschema)),
                              (schema, table, bounds[0], bounds[1])) or []
    col_list = sql.SQL(', ').join(ident(c) for c in cols)
    run.execute(sql.SQL('INSERT INTO {} ({}) {}SELECT {} FROM {}').format(
        target, col_list, sql.SQL('OVERRIDING SYSTEM VALUE ' if always else ''), col_list, old))
    positions = []
    for name, seq in idents:
        state = fetch_one(conn, sql.SQL('SELECT last_value, is_called FROM {}').format(sql.SQL(seq)))
        seq_grants = acl_statements(conn, fetch_value(conn, 'SELECT %s::regclass::oid', (seq,)),
                                    sql.Identifier(schema, seq.split('.')[-1].strip('"')), 'SEQUENCE')
        positions.append((name, seq, state, seq_grants))
    run.execute(sql.SQL('DROP TABLE {}').format(old))
    for name, seq, state, _grants in positions:
        seq_name = seq.split('.')[-1].strip('"')
        if check_mode:
            new_seq = sql.Identifier(schema, seq_name)
        else:
            new_seq = sql.SQL(fetch_value(conn, 'SELECT pg_get_serial_sequence(%s, %s)',
                                          (target.as_string(conn), name)))
            if new_seq.as_string(conn) != seq:
                run.execute(sql.SQL('ALTER SEQUENCE {} RENAME TO {}').format(new_seq, ident(seq_name)))
                new_seq = sql.Identifier(schema, seq_name)
        run.execute('SELECT setval(%s, %s, %s)', (new_seq.as_string(conn), state[0], state[1]))
    if pk:
        pk_cols = list(pk[1]) + ([column] if column is not None and column not in pk[1] else [])
        run.execute(sql.SQL('ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})').format(
            target, ident(pk[0]), sql.SQL(', ').join(ident(c) for c in pk_cols)))
    for name, definition in con_defs:
        run.execute(sql.SQL('ALTER TABLE {} ADD CONSTRAINT {} ' + definition).format(target, ident(name)))
    for definition in index_defs:
        run.execute(definition)  # pg_get_indexdef of the table before its rename: names the new table
    if comment is not None:
        run.execute(sql.SQL('COMMENT ON TABLE {} IS %s').format(target), (comment,))
    if info['owner'] != fetch_value(conn, 'SELECT current_user'):
        run.execute(sql.SQL('ALTER TABLE {} OWNER TO {}').format(target, ident(info['owner'])))
    if check_mode:
        run.queries.append('-- the grants of %s.%s put back as they are' % (schema, table))
    else:
        new_oid = fetch_value(conn, 'SELECT %s::regclass::oid', (target.as_string(conn),))
        for stmt in revoke_all(conn, new_oid, target):
            run.execute(stmt)
    for stmt in grants:
        run.execute(stmt)
    for name, seq, state, seq_grants in positions:
        seq_name = seq.split('.')[-1].strip('"')
        seq_sql = sql.Identifier(schema, seq_name)
        if not check_mode:
            seq_oid = fetch_value(conn, 'SELECT %s::regclass::oid', (seq_sql.as_string(conn),))
            for stmt in revoke_all(conn, seq_oid, seq_sql, 'SEQUENCE'):
                run.execute(stmt)
        for stmt in seq_grants:
            run.execute(stmt)
    for stmt in policies:
        run.execute(stmt)
    if info['rls']:
        run.execute(sql.SQL('ALTER TABLE {} ENABLE ROW LEVEL SECURITY').format(target))
    if info['force_rls']:
        run.execute(sql.SQL('ALTER TABLE {} FORCE ROW LEVEL SECURITY').format(target))
    return bounds[2], planned


def ensure_maintenance(conn, run, mschema):
    """Schema, configuration table and functions, each made only when missing or different."""
    if fetch_value(conn, 'SELECT count(*) FROM pg_namespace WHERE nspname = %s', (mschema,)) == 0:
        run.execute(sql.SQL('CREATE SCHEMA {}').format(ident(mschema)))
        run.execute(sql.SQL('REVOKE ALL ON SCHEMA {} FROM PUBLIC').format(ident(mschema)))
    if fetch_value(conn, 'SELECT to_regclass(%s)', ('%s.partition_config' % sql.Identifier(mschema).as_string(conn),)) is None:
        run.execute(config_table_sql(mschema))
    made = False
    for _kind, name, body, create in maintenance_sql(mschema):
        have = fetch_value(conn, 'SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace '
                                 'WHERE n.nspname = %s AND p.proname = %s', (mschema, name))
        if have != body:
            run.execute(create)
            made = True
    if made:
        run.execute(sql.SQL('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {} FROM PUBLIC').format(ident(mschema)))


def ensure_config(conn, run, mschema, schema, table, column, interval, premake, retention):
    row = fetch_one(conn, sql.SQL('SELECT column_name, part_interval = %s::interval, premake, '
                                  'retention IS NOT DISTINCT FROM %s::interval FROM {}.partition_config '
                                  'WHERE schema_name = %s AND table_name = %s').format(ident(mschema)),
                    (interval, retention, schema, table)) if fetch_value(
        conn, 'SELECT to_regclass(%s)', ('%s.partition_config' % sql.Identifier(mschema).as_string(conn),)) else None
    if row is None or row[0] != column or not row[1] or row[2] != premake or not row[3]:
        run.execute(sql.SQL('INSERT INTO {}.partition_config AS pc (schema_name, table_name, column_name, '
                            'part_interval, premake, retention) VALUES (%s, %s, %s, %s, %s, %s) '
                            'ON CONFLICT (schema_name, table_name) DO UPDATE SET column_name = EXCLUDED.column_name, '
                            'part_interval = EXCLUDED.part_interval, premake = EXCLUDED.premake, '
                            'retention = EXCLUDED.retention').format(ident(mschema)),
                    (schema, table, column, interval, premake, retention))


def as_parts(rows):
    created = [dict(name=r[1], **{'from': r[2], 'to': r[3]}) for r in rows if r[0] == 'create']
    dropped = [dict(name=r[1], **{'from': r[2], 'to': r[3]}) for r in rows if r[0] == 'drop']
    return created, dropped


def merge(module, conn, schema, table, mschema, result):
    """state=absent: a partitioned table becomes one plain table with every row; exits."""
    try:
        rel = fetch_one(conn, "SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE n.nspname = %s AND c.relname = %s", (schema, table))
        if rel is None:
            raise DbfleetPostgresError('table %s.%s does not exist in database %s' % (
                schema, table, fetch_value(conn, 'SELECT current_database()')))
        run = Executor(conn, check_mode=module.check_mode)
        if rel[1] == 'p':
            blockers = conversion_blockers(conn, rel[0], None)
            if blockers:
                raise DbfleetPostgresError('%s.%s cannot be made a plain table here: %s' % (
                    schema, table, '; '.join(blockers)))
            info = fetch_one(conn, "SELECT relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) "
                                   "FROM pg_class WHERE oid = %s", (rel[0],))
            result['converted'] = True
            result['rows_moved'] = rebuild(conn, run, schema, table, None,
                                           dict(oid=rel[0], kind='p', rls=info[0], force_rls=info[1],
                                                owner=info[2], notnull=True),
                                           mschema, module.check_mode)[0]
        elif rel[1] != 'r':
            raise DbfleetPostgresError('%s.%s is not a table (relkind %s)' % (schema, table, rel[1]))
        config = '%s.partition_config' % sql.Identifier(mschema).as_string(conn)
        if fetch_value(conn, 'SELECT to_regclass(%s)', (config,)) and fetch_value(
                conn, sql.SQL('SELECT count(*) FROM {}.partition_config WHERE schema_name = %s '
                              'AND table_name = %s').format(ident(mschema)), (schema, table)):
            run.execute(sql.SQL('DELETE FROM {}.partition_config WHERE schema_name = %s AND table_name = %s').format(
                ident(mschema)), (schema, table))
        result['queries'] = run.queries
        result['changed'] = bool(run.queries)
        if module.check_mode:
            conn.rollback()
        else:
            conn.commit()
    except (psycopg2.Error, DbfleetPostgresError) as exc:
        conn.rollback()
        module.fail_json(msg='postgres_partition on %s.%s: %s' % (schema, table, to_text_error(exc)), **result)
    finally:
        conn.close()
    module.exit_json(**result)


def main():
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        table=dict(type='str', required=True),
        column=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        interval=dict(type='str', default='1 week'),
        premake=dict(type='int', default=4),
        retention=dict(type='str'),
        maintenance_schema=dict(type='str', default='dbfleet'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_if=[('state', 'present', ['column'])])
    p = module.params
    result = dict(changed=False, converted=False, rows_moved=0, created=[], dropped=[], interval=None, queries=[])
    try:
        schema, table = split_qualified_name(p['table'], what='table')
        column = validate_identifier(p['column'], 'column') if p['state'] == 'present' else None
        mschema = validate_identifier(p['maintenance_schema'], 'maintenance_schema')
    except DbfleetPostgresError as exc:
        module.fail_json(msg=str(exc), **result)

    conn = connect(module)
    if p['state'] == 'absent':
        merge(module, conn, schema, table, mschema, result)
    try:
        interval = normalize_interval(conn, p['interval'], 'interval')
        retention = normalize_interval(conn, p['retention'], 'retention') if p['retention'] is not None else None
        i_sec, i_mon = interval_parts(conn, interval)
        r_sec, r_mon = interval_parts(conn, retention) if retention else (None, 0)
        check_spans(interval, i_sec, i_mon, retention, r_sec, r_mon, p['premake'])
        result['interval'] = interval
        info = table_info(conn, schema, table, column)
        if info['kind'] == 'p':
            key = partition_key(conn, info['oid'])
            if key is None or key[0] != 'r' or list(key[1]) != [column]:
                raise DbfleetPostgresError('%s.%s is already partitioned, but not by range on %s alone' % (
                    schema, table, column))
        else:
            blockers = conversion_blockers(conn, info['oid'], column)
            if blockers:
                raise DbfleetPostgresError('%s.%s cannot be converted here: %s' % (schema, table, '; '.join(blockers)))

        run = Executor(conn, check_mode=module.check_mode)
        ensure_maintenance(conn, run, mschema)
        ensure_config(conn, run, mschema, schema, table, column, interval, p['premake'], retention)
        rows = []
        if info['kind'] == 'r':
            result['converted'] = True
            result['rows_moved'], rows = convert(conn, run, schema, table, column, info, mschema, module.check_mode)
        if module.check_mode:
            if info['kind'] == 'p' and not run.queries:
                rows = fetch_all(conn, sql.SQL('SELECT action, partition_table, range_from::text, range_to::text '
                                               'FROM {}.partition_maintain(%s, %s, p_dry_run => true)').format(
                    ident(mschema)), (schema, table))
                for r in rows:
                    run.queries.append('-- %s partition %s.%s [%s, %s)' % (r[0], schema, r[1], r[2], r[3]))
        else:
            rows = list(rows) + (run.execute(sql.SQL('SELECT action, partition_table, range_from::text, range_to::text '
                                                     'FROM {}.partition_maintain(%s, %s)').format(ident(mschema)),
                                             (schema, table)) or [])
            if info['kind'] == 'p' and len(run.queries) == 1 and not rows:
                run.queries = []  # only the maintenance call ran, and it had nothing to do
        result['created'], result['dropped'] = as_parts(rows)
        result['queries'] = run.queries
        result['changed'] = bool(run.queries)
        if module.check_mode:
            conn.rollback()
        else:
            conn.commit()
    except (psycopg2.Error, DbfleetPostgresError) as exc:
        conn.rollback()
        module.fail_json(msg='postgres_partition on %s.%s: %s' % (schema, table, to_text_error(exc)), **result)
    finally:
        conn.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
