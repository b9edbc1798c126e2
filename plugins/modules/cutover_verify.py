#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: cutover_verify
short_description: Compare a cutover's source and target databases
version_added: 0.1.0
description:
  - Compares the application schemas of two PostgreSQL databases, typically the hosted
    Supabase source and the self-hosted target after a restore.
  - For every table it compares the row count and a content checksum (an
    order-independent sum of 64-bit hashes of every row's text form); for every sequence
    its current value; and functions, views, materialized views, triggers, RLS policies,
    indexes and constraints by name and definition.
  - Returns the differences as data and fails on any difference that is not listed in
    O(expected_differences).
  - When the two servers run different majors, views and materialized views are compared
    by structure (output columns and types, and the columns they read), because each
    major deparses the same view differently; RV(notes) says so.
  - Reads only, inside a read-only repeatable-read transaction on each side.
author:
  - darkreach engineering (@darkreach)
extends_documentation_fragment:
  - darkreach.dbfleet.postgres
  - darkreach.dbfleet.postgres.source
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode runs the same comparison.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
options:
  schemas:
    description:
      - The application schemas to compare.
    type: list
    elements: str
    default: [public]
  checksums:
    description:
      - Compare table contents by checksum, not only row counts. Costs one full read of
        every table on both sides.
    type: bool
    default: true
  expected_differences:
    description:
      - Differences that do not fail the task, as C(kind:name) (for example
        C(table:public.metric_samples), C(function:public.get_stats())) or a bare
        qualified name that matches every kind.
    type: list
    elements: str
    default: []
  fail_on_difference:
    description:
      - Fail when an unexpected difference is found. With V(false) the differences are
        only returned.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Compare Supabase with the new primary after the restore
  darkreach.dbfleet.cutover_verify:
    source:
      login_host: db.abcdefgh.supabase.co
      login_port: 5432
      login_user: postgres
      login_password: "{{ vault_supabase_password }}"
      login_db: postgres
      ssl_mode: require
    login_host: 10.0.0.20
    login_user: postgres
    login_password: "{{ vault_postgres_password }}"
    login_db: darkreach
  delegate_to: localhost

- name: Compare, accepting a known difference
  darkreach.dbfleet.cutover_verify:
    source: "{{ dbfleet_cutover_source }}"
    login_host: pg1
    login_db: darkreach
    expected_differences:
      - table:public.system_logs
'''

RETURN = r'''
identical:
  description: Whether no difference at all was found (expected ones included).
  returned: always
  type: bool
differences:
  description: Every difference found, expected ones marked.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: table, sequence, function, view, matview, trigger, policy, index or constraint.
      type: str
    name:
      description: Qualified name of the object.
      type: str
    problem:
      description: missing_on_target, missing_on_source, row_count, checksum, value or definition.
      type: str
    source:
      description: The source's value (row count, sequence value, definition), if any.
      type: raw
    target:
      description: The target's value, if any.
      type: raw
    expected:
      description: Whether O(expected_differences) lists it.
      type: bool
  sample:
    - kind: table
      name: public.primes
      problem: checksum
      source: 'a1b2...'
      target: 'c3d4...'
      expected: false
tables:
  description: Per table, the row counts on both sides and whether the contents match.
  returned: always
  type: dict
  sample: {"public.primes": {"source_rows": 1200, "target_rows": 1200, "checksum_match": true}}
rows:
  description: Total rows compared on the source.
  returned: always
  type: int
objects:
  description: Number of objects compared, by kind.
  returned: always
  type: dict
notes:
  description: How the comparison was made where it is not by text (different majors).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    DbfleetPostgresError,
    connect,
    endpoint_argument_spec,
    fetch_all,
    fetch_value,
    postgres_common_argument_spec,
    sql,
    to_text_error,
    validate_identifier,
)

# An extension's own relations (pg_stat_statements' views in public, ...) belong to the
# extension on each side, not to the application.
NOT_EXTENSION_MEMBER = """NOT EXISTS (
    SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
       AND d.deptype = 'e')"""

# Catalog queries: one (name, definition) list per kind, for the given schemas.
# They take %(schemas)s as a bound parameter, so format()'s own % signs are doubled.
CATALOG = {
    'function': """
        SELECT format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
               pg_get_functiondef(p.oid)
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = ANY(%(schemas)s) AND p.prokind IN ('f', 'p')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
    'view': """
        SELECT format('%%I.%%I', n.nspname, c.relname), pg_get_viewdef(c.oid)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'v' AND n.nspname = ANY(%(schemas)s) AND """ + NOT_EXTENSION_MEMBER,
    'matview': """
        SELECT format('%%I.%%I', n.nspname, c.relname), pg_get_viewdef(c.oid)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'm' AND n.nspname = ANY(%(schemas)s) AND """ + NOT_EXTENSION_MEMBER,
    'trigger': """
        SELECT format('%%I.%%I.%%I', n.nspname, c.relname, t.tgname), pg_get_triggerdef(t.oid)
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY(%(schemas)s) AND NOT t.tgisinternal""",
    'policy': """
        SELECT format('%%I.%%I.%%I', schemaname, tablename, policyname),
               concat_ws(' | ', permissive, array_to_string(roles, ','), cmd, qual, with_check)
          FROM pg_policies WHERE schemaname = ANY(%(schemas)s)""",
    'index': """
        SELECT format('%%I.%%I', schemaname, indexname), indexdef
          FROM pg_indexes WHERE schemaname = ANY(%(schemas)s)""",
    'constraint': """
        SELECT format('%%I.%%I.%%I', n.nspname, c.relname, con.conname), pg_get_constraintdef(con.oid)
          FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY(%(schemas)s)""",
    'rls': """
        SELECT format('%%I.%%I', n.nspname, c.relname), c.relrowsecurity::text
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p')""",
}

# Views compared by structure (output columns and types, the columns they read) when the
# majors differ: deparsers of different majors print the same view differently
# (PostgreSQL 16 drops needless table qualifications).
VIEW_STRUCTURE = """
    SELECT format('%%I.%%I', vn.nspname, v.relname),
           (SELECT string_agg(format('%%s %%s', a.attname, format_type(a.atttypid, a.atttypmod)),
                              ', ' ORDER BY a.attnum)
              FROM pg_attribute a WHERE a.attrelid = v.oid AND a.attnum > 0 AND NOT a.attisdropped)
           || ' <- ' ||
           coalesce((SELECT string_agg(DISTINCT format('%%I.%%I.%%s', rn.nspname, rc.relname,
                                                       coalesce(ra.attname::text, '*')), ', ')
              FROM pg_rewrite r
              JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass
                              AND d.refclassid = 'pg_class'::regclass
              JOIN pg_class rc ON rc.oid = d.refobjid
              JOIN pg_namespace rn ON rn.oid = rc.relnamespace
              LEFT JOIN pg_attribute ra ON ra.attrelid = rc.oid AND ra.attnum = d.refobjsubid
                                       AND d.refobjsubid > 0
             WHERE r.ev_class = v.oid AND rc.oid <> v.oid), '')
      FROM pg_class v JOIN pg_namespace vn ON vn.oid = v.relnamespace
     WHERE v.relkind = %(relkind)s AND vn.nspname = ANY(%(schemas)s)
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = v.oid AND d.deptype = 'e')"""

TABLES = """
    SELECT n.nspname, c.relname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'm')
       AND NOT c.relispartition AND """ + NOT_EXTENSION_MEMBER + """
     ORDER BY 1, 2"""

SEQUENCES = """
    SELECT format('%%I.%%I', schemaname, sequencename),
           COALESCE(last_value::text, 'unused')
      FROM pg_sequences WHERE schemaname = ANY(%(schemas)s)"""

# Order-independent content checksum: the sum of the first 64 bits of md5(row text).
CHECKSUM = ("SELECT count(*), COALESCE(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint"
            "::numeric), 0)::text FROM {} AS t")


def normalise(definition):
    """Whitespace-insensitive definition text (deparsers of different majors wrap lines differently)."""
    return ' '.join((definition or '').split())


def fingerprint(conn, schemas, checksums, structural_views=False):
    """Everything compared, read in one snapshot: {kind: {name: value}}, tables separately."""
    params = {'schemas': schemas}
    result = {}
    for kind, query in CATALOG.items():
        if structural_views and kind in ('view', 'matview'):
            query, params = VIEW_STRUCTURE, dict(schemas=schemas, relkind='v' if kind == 'view' else 'm')
        else:
            params = {'schemas': schemas}
        result[kind] = dict((name, normalise(defn)) for name, defn in fetch_all(conn, query, params))
    params = {'schemas': schemas}
    result['sequence'] = dict(fetch_all(conn, SEQUENCES, params))
    tables = {}
    for schema, name in fetch_all(conn, TABLES, params):
        query = sql.SQL(CHECKSUM).format(sql.Identifier(schema, name))
        rows, checksum = fetch_all(conn, query)[0]
        tables['%s.%s' % (schema, name)] = (int(rows), checksum if checksums else None)
    return result, tables


def is_expected(kind, name, expected):
    return '%s:%s' % (kind, name) in expected or name in expected


def compare(src, dst, src_tables, dst_tables, expected):
    """Pure comparison of two fingerprints -> (differences, per-table summary)."""
    diffs = []

    def add(kind, name, problem, source=None, target=None):
        diffs.append(dict(kind=kind, name=name, problem=problem, source=source, target=target,
                          expected=is_expected(kind, name, expected)))

    for kind in sorted(set(src) | set(dst)):
        left, right = src.get(kind, {}), dst.get(kind, {})
        for name in sorted(set(left) | set(right)):
            if name not in right:
                add(kind, name, 'missing_on_target', source=left[name])
            elif name not in left:
                add(kind, name, 'missing_on_source', target=right[name])
            elif left[name] != right[name]:
                add(kind, name, 'value' if kind == 'sequence' else 'definition', left[name], right[name])
    tables = {}
    for name in sorted(set(src_tables) | set(dst_tables)):
        if name not in dst_tables:
            add('table', name, 'missing_on_target', source=src_tables[name][0])
            continue
        if name not in src_tables:
            add('table', name, 'missing_on_source', target=dst_tables[name][0])
            continue
        (s_rows, s_sum), (t_rows, t_sum) = src_tables[name], dst_tables[name]
        match = s_sum == t_sum
        tables[name] = dict(source_rows=s_rows, target_rows=t_rows, checksum_match=match)
        if s_rows != t_rows:
            add('table', name, 'row_count', s_rows, t_rows)
        elif not match:
            add('table', name, 'checksum', s_sum, t_sum)
    return diffs, tables


def snapshot(module, conn, schemas, checksums, what, structural_views):
    try:
        conn.set_session(isolation_level='REPEATABLE READ', readonly=True)
        result = fingerprint(conn, schemas, checksums, structural_views)
        conn.rollback()
        return result
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='reading the %s failed: %s' % (what, to_text_error(exc)))
    return None


def main():
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        source=endpoint_argument_spec(required=True),
        schemas=dict(type='list', elements='str', default=['public']),
        checksums=dict(type='bool', default=True),
        expected_differences=dict(type='list', elements='str', default=[]),
        fail_on_difference=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        schemas = [validate_identifier(s, 'schema') for s in module.params['schemas']]
    except DbfleetPostgresError as exc:
        module.fail_json(msg=str(exc))

    source = connect(module, params=module.params['source'], what='source database')
    target = connect(module, what='target database')
    majors = []
    for conn in (source, target):
        majors.append(fetch_value(conn, 'SHOW server_version_num'))
        conn.rollback()  # the snapshot below starts its own transaction
    structural = int(majors[0]) // 10000 != int(majors[1]) // 10000
    src, src_tables = snapshot(module, source, schemas, module.params['checksums'], 'source', structural)
    dst, dst_tables = snapshot(module, target, schemas, module.params['checksums'], 'target', structural)
    source.close()
    target.close()

    diffs, tables = compare(src, dst, src_tables, dst_tables, set(module.params['expected_differences']))
    objects = dict((kind, len(values)) for kind, values in src.items())
    objects['table'] = len(src_tables)
    notes = []
    if structural:
        notes.append('source and target majors differ (%s, %s): views and materialized views are '
                     'compared by their columns, types and the columns they read, not by their '
                     'deparsed text' % tuple(int(m) // 10000 for m in majors))
    result = dict(changed=False, identical=not diffs, differences=diffs, tables=tables,
                  rows=sum(rows for rows, dummy in src_tables.values()), objects=objects,
                  notes=notes)
    unexpected = [d for d in diffs if not d['expected']]
    if unexpected and module.params['fail_on_difference']:
        names = ', '.join('%s %s (%s)' % (d['kind'], d['name'], d['problem']) for d in unexpected[:10])
        more = ' and %d more' % (len(unexpected) - 10) if len(unexpected) > 10 else ''
        module.fail_json(msg='source and target differ: %s%s' % (names, more), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
