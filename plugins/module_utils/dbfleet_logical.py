# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The logical-replication cutover (module supabase_logical_sync): which application
tables a publication can carry, the subscription's connection string, and reading
and setting sequences. Catalog reads only need what hosted Supabase gives the
``postgres`` role (no superuser)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    connection_params,
    fetch_all,
    sql,
)

# The application's tables with what decides whether logical replication can carry
# their UPDATEs and DELETEs: the replica identity (d default = primary key, i index,
# f full, n nothing) and whether the key it needs exists. Extension members excluded.
TABLES = """
    SELECT n.nspname, c.relname, c.relkind, c.relreplident,
           EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
           EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident),
           pg_get_userbyid(c.relowner)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND c.relpersistence = 'p'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY 1, 2"""

SEQUENCES = """
    SELECT schemaname, sequencename FROM pg_sequences
     WHERE schemaname = ANY(%(schemas)s) ORDER BY 1, 2"""

# Non-generated columns of a table, in order (what COPY carries).
COLUMNS = """
    SELECT a.attname FROM pg_attribute a
     WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attgenerated = '' ORDER BY a.attnum"""


def replica_identity_problem(relreplident, has_pk, has_identity_index):
    """Why a table's UPDATE/DELETE cannot be replicated, or None (pure)."""
    if relreplident == 'n':
        return 'REPLICA IDENTITY NOTHING'
    if relreplident == 'd' and not has_pk:
        return 'no primary key and no replica identity'
    if relreplident == 'i' and not has_identity_index:
        return 'its replica identity index is gone'
    return None


def application_tables(conn, schemas):
    """[{name, schema, table, partitioned, owner, problem}] for the given schemas."""
    tables = []
    for schema, name, kind, ident, has_pk, has_ri, owner in fetch_all(conn, TABLES, {'schemas': schemas}):
        tables.append(dict(name='%s.%s' % (schema, name), schema=schema, table=name,
                           partitioned=kind == 'p', owner=owner,
                           problem=replica_identity_problem(ident, has_pk, has_ri)))
    return tables


def conninfo_quote(value):
    """A libpq conninfo value in single quotes, with \\ and ' escaped (pure)."""
    return "'%s'" % str(value).replace('\\', '\\\\').replace("'", "\\'")


# psycopg2.connect() keyword -> libpq conninfo keyword
_CONNINFO_KEYS = ('host', 'port', 'user', 'password', 'dbname', 'sslmode', 'sslrootcert',
                  'connect_timeout')


def subscription_conninfo(params, host=None, port=None):
    """(conninfo, conninfo with the password masked) for CREATE SUBSCRIPTION (pure).

    ``params`` are the source's login options; ``host``/``port`` override where the
    target server reaches the source, if that differs from where the module does."""
    kw = connection_params(params)
    if host:
        kw['host'] = host
    if port:
        kw['port'] = port
    parts, masked = [], []
    for key in _CONNINFO_KEYS:
        if key in kw and kw[key] not in (None, ''):
            parts.append('%s=%s' % (key, conninfo_quote(kw[key])))
            masked.append('%s=%s' % (key, "'********'" if key == 'password' else conninfo_quote(kw[key])))
    parts.append("application_name='dbfleet_cutover'")
    masked.append("application_name='dbfleet_cutover'")
    return ' '.join(parts), ' '.join(masked)


def sequence_values(conn, schemas):
    """{'schema.name': (last_value, is_called)} of the sequences in ``schemas``."""
    values = {}
    for schema, name in fetch_all(conn, SEQUENCES, {'schemas': schemas}):
        rows = fetch_all(conn, sql.SQL('SELECT last_value, is_called FROM {}').format(
            sql.Identifier(schema, name)))
        values['%s.%s' % (schema, name)] = (int(rows[0][0]), bool(rows[0][1]))
    return values


def sequence_plan(source, target):
    """[(name, last_value, is_called)] to set on the target so that it matches the
    source; sequences missing on the target are left out (pure)."""
    return [(name, value[0], value[1]) for name, value in sorted(source.items())
            if name in target and target[name] != value]


def table_columns(conn, qualified_name):
    return [r[0] for r in fetch_all(conn, COLUMNS, (qualified_name,))]
