#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: timescaledb_hypertable
short_description: Turn a table into a TimescaleDB hypertable with compression and retention
version_added: 0.1.0
description:
  - Converts an existing, possibly populated table into a hypertable partitioned by a time
    column, keeping its rows (C(create_hypertable(..., migrate_data => true))).
  - A primary key or unique constraint that lacks the time column is extended to include it
    (TimescaleDB requires this), unless O(constraints=keep), in which case the task fails and
    says which constraint is in the way.
  - Sets the chunk interval, compression (segment-by, order-by, compress-after policy) and
    retention, and changes them on an existing hypertable.
  - Under the Apache-licensed TimescaleDB build (C(timescaledb.license=apache), what Debian
    ships) compression and C(add_*_policy) are refused by the server. Retention then becomes a
    pg_cron job that runs C(drop_chunks) and compression is reported as unavailable (or the task
    fails when O(compression_required=true)). The result says which way was taken.
  - Refuses, before changing anything, a missing table, a time column that is not a time type
    or holds NULLs, an interval that does not parse, a natively partitioned table and a
    retention shorter than the compression delay.
author:
  - darkreach engineering (@darkreach)
extends_documentation_fragment:
  - darkreach.dbfleet.postgres
attributes:
  check_mode:
    support: full
    description: Reads the current state, validates the input and returns the plan as RV(queries) without changing anything.
  diff_mode:
    support: full
    description: Returns the hypertable's settings before and after.
options:
  table:
    description:
      - The table to convert or manage; V(schema.table) or a bare name in O(schema).
    type: str
    required: true
    aliases: [ name ]
  schema:
    description:
      - Schema of O(table) when O(table) is not qualified.
    type: str
    default: public
  time_column:
    description:
      - The column to partition by; of type C(timestamptz), C(timestamp) or C(date), without NULLs.
      - On an existing hypertable it must be its time dimension.
    type: str
    required: true
  chunk_time_interval:
    description:
      - Time span of one chunk, a PostgreSQL interval such as V(1 day).
      - On an existing hypertable a different value is set with C(set_chunk_time_interval);
        it applies to chunks created from then on.
      - Unset keeps the current value (TimescaleDB's default, 7 days, on conversion).
    type: str
  constraints:
    description:
      - What to do with a primary key or unique constraint that does not include O(time_column).
      - V(extend) adds the time column to it (same name), V(keep) fails and leaves the table alone.
      - A constraint referenced by a foreign key, or a unique index that is not a constraint, is never
        rewritten; the task fails and names it.
    type: str
    choices: [ extend, keep ]
    default: extend
  compression:
    description:
      - Whether native compression should be enabled.
      - Unset means enabled when any of O(compress_segment_by), O(compress_order_by),
        O(compress_after) is given, otherwise left as it is.
      - V(false) removes the compression policy and disables compression (fails while compressed
        chunks exist).
    type: bool
  compress_segment_by:
    description:
      - Columns compressed data is segmented by (C(timescaledb.compress_segmentby)).
    type: list
    elements: str
  compress_order_by:
    description:
      - Ordering inside compressed segments (C(timescaledb.compress_orderby)), items like
        V(ts DESC) or V(id ASC NULLS LAST).
    type: list
    elements: str
  compress_after:
    description:
      - Age after which chunks are compressed by a compression policy (an interval).
      - V(none) removes the policy.
    type: str
  compression_required:
    description:
      - Fail when compression is asked for but the server's TimescaleDB cannot compress
        (Apache licence). Otherwise the result reports compression as unavailable and warns.
    type: bool
    default: false
  retention:
    description:
      - Age after which chunks are dropped (an interval, for example V(90 days)).
      - V(forever) removes the retention policy or job.
      - Unset leaves retention as it is.
      - Must not be shorter than O(compress_after).
    type: str
  retention_schedule:
    description:
      - Cron schedule of the pg_cron job that applies retention under the Apache licence.
    type: str
    default: '30 3 * * *'
'''

EXAMPLES = r'''
- name: Convert metric_samples into a hypertable with 1-day chunks, compression and retention
  darkreach.dbfleet.timescaledb_hypertable:
    login_db: darkreach
    table: metric_samples
    time_column: sampled_at
    chunk_time_interval: 1 day
    compress_segment_by: [scope, metric]
    compress_order_by: [sampled_at DESC]
    compress_after: 7 days
    retention: 90 days

- name: Fail instead of extending the primary key with the time column
  darkreach.dbfleet.timescaledb_hypertable:
    login_db: darkreach
    table: public.system_logs
    time_column: logged_at
    constraints: keep
    retention: 30 days

- name: Require compression (fails on the Apache-licensed build)
  darkreach.dbfleet.timescaledb_hypertable:
    login_db: darkreach
    table: metric_samples
    time_column: sampled_at
    compress_after: 7 days
    compression_required: true
'''

RETURN = r'''
hypertable:
  description: Whether the table is a hypertable after the task (or would be, in check mode).
  returned: always
  type: bool
  sample: true
converted:
  description: Whether the task converted the table into a hypertable.
  returned: always
  type: bool
license:
  description: The server's C(timescaledb.license).
  returned: always
  type: str
  sample: apache
timescaledb_version:
  description: Version of the TimescaleDB extension in the database.
  returned: always
  type: str
  sample: 2.19.3
chunk_time_interval:
  description: The chunk interval after the task.
  returned: always
  type: str
  sample: 1 day
compression:
  description: Compression after the task and how it is provided.
  returned: always
  type: dict
  contains:
    status:
      description: V(enabled), V(disabled) or V(unavailable) (Apache licence).
      type: str
    segment_by:
      description: Segment-by columns.
      type: list
      elements: str
    order_by:
      description: Order-by items.
      type: list
      elements: str
    compress_after:
      description: Delay of the compression policy, or null.
      type: str
  sample: {status: unavailable, segment_by: [], order_by: [], compress_after: null}
retention:
  description: Retention after the task and how it is applied.
  returned: always
  type: dict
  contains:
    drop_after:
      description: Age after which chunks are dropped, or null.
      type: str
    method:
      description: V(policy) (TimescaleDB retention policy), V(pg_cron) (a pg_cron job calling C(drop_chunks)) or null.
      type: str
    job_name:
      description: Name of the pg_cron job.
      type: str
    job_id:
      description: Id of the TimescaleDB job or pg_cron job.
      type: int
    schedule:
      description: Schedule of the pg_cron job.
      type: str
    command:
      description: What the pg_cron job runs.
      type: str
  sample: {drop_after: 90 days, method: pg_cron, job_name: 'dbfleet_retention:darkreach.public.metric_samples'}
constraints_changed:
  description: Constraints extended with the time column.
  returned: always
  type: list
  elements: str
  sample: ['metric_samples_pkey: (id) -> (id, sampled_at)']
notes:
  description: Statements of what was done another way or not at all (licence fallbacks).
  returned: always
  type: list
  elements: str
queries:
  description: Statements that ran, or would run in check mode, in order.
  returned: always
  type: list
  elements: str
'''

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    CronJobs,
    DbfleetPostgresError,
    Executor,
    TIME_TYPES,
    connect,
    cron_database_name,
    current_database,
    fetch_all,
    fetch_one,
    fetch_value,
    interval_seconds,
    intervals_equal,
    normalize_interval,
    postgres_common_argument_spec,
    psycopg2,
    require_timescaledb,
    resolve_name,
    sql,
    to_text_error,
    validate_identifier,
)

_ORDER_BY_RE = re.compile(
    r'^\s*([A-Za-z_][A-Za-z0-9_$]*)(?:\s+(ASC|DESC))?(?:\s+NULLS\s+(FIRST|LAST))?\s*$',
    re.IGNORECASE)
NO_VALUE = ('none', 'forever', 'never', 'off')


# --- pure logic (unit-tested) -----------------------------------------------------

def parse_order_by(item):
    """'ts desc' -> ('ts', False, True): column, ascending, nulls first (PostgreSQL's
    defaults filled in). Raises DbfleetPostgresError for anything else."""
    match = _ORDER_BY_RE.match(item or '')
    if not match:
        raise DbfleetPostgresError(
            'compress_order_by item "%s" is not "column [ASC|DESC] [NULLS FIRST|LAST]"' % item)
    column, direction, nulls = match.groups()
    validate_identifier(column, 'compress_order_by column')
    asc = (direction or 'ASC').upper() == 'ASC'
    nulls_first = (nulls.upper() == 'FIRST') if nulls else (not asc)
    return (column, asc, nulls_first)


def format_order_by(item):
    """(column, asc, nulls_first) -> 'column [DESC] [NULLS ...]', defaults omitted."""
    column, asc, nulls_first = item
    text = column if asc else '%s DESC' % column
    if nulls_first != (not asc):
        text += ' NULLS FIRST' if nulls_first else ' NULLS LAST'
    return text


def compression_settings_from_rows(rows):
    """Rows of timescaledb_information.compression_settings (attname,
    segmentby_column_index, orderby_column_index, orderby_asc, orderby_nullsfirst)
    -> (segment_by columns, order_by tuples), each in their index order."""
    segment = sorted((r[1], r[0]) for r in rows if r[1] is not None)
    order = sorted((r[2], (r[0], bool(r[3]), bool(r[4]))) for r in rows if r[2] is not None)
    return [pair[1] for pair in segment], [pair[1] for pair in order]


def constraint_plan(constraints, time_column, mode):
    """Which primary key / unique constraints must be extended with the time column.

    ``constraints``: list of dicts name, type ('p'/'u'), columns, referenced_by (list of
    foreign key descriptions). Returns a list of (name, type, old columns, new columns);
    raises DbfleetPostgresError when ``mode`` is 'keep' or a foreign key depends on one.
    """
    plan = []
    for con in constraints:
        if time_column in con['columns']:
            continue
        kind = 'primary key' if con['type'] == 'p' else 'unique constraint'
        if mode == 'keep':
            raise DbfleetPostgresError(
                '%s %s (%s) does not include the time column %s, which TimescaleDB requires; '
                'constraints=keep forbids changing it (use constraints=extend to make it (%s))'
                % (kind, con['name'], ', '.join(con['columns']), time_column,
                   ', '.join(con['columns'] + [time_column])))
        if con.get('referenced_by'):
            raise DbfleetPostgresError(
                '%s %s (%s) lacks the time column %s but is referenced by foreign key(s) %s; '
                'drop or change those first' % (kind, con['name'], ', '.join(con['columns']),
                                                time_column, ', '.join(con['referenced_by'])))
        plan.append((con['name'], con['type'], list(con['columns']),
                     list(con['columns']) + [time_column]))
    return plan


def check_retention_vs_compression(retention_seconds, compress_seconds, retention, compress_after):
    if retention_seconds is None or compress_seconds is None:
        return
    if retention_seconds < compress_seconds:
        raise DbfleetPostgresError(
            'retention %s is shorter than the compression delay compress_after %s: chunks would '
            'be dropped before they are compressed' % (retention, compress_after))


def retention_job_name(database, schema, table):
    return 'dbfleet_retention:%s.%s.%s' % (database, schema, table)


def desired_compression(params):
    """True/False/None (leave) from the compression options."""
    if params.get('compression') is not None:
        return params['compression']
    if params.get('compress_segment_by') or params.get('compress_order_by') or \
            (params.get('compress_after') and params['compress_after'].lower() not in NO_VALUE):
        return True
    return None


# --- reading the server -----------------------------------------------------------

def read_relation(conn, schema, table):
    row = fetch_one(conn, 'SELECT c.oid, c.relkind, c.relispartition FROM pg_class c '
                          'JOIN pg_namespace n ON n.oid = c.relnamespace '
                          'WHERE n.nspname = %s AND c.relname = %s', (schema, table))
    if not row:
        return None
    return dict(oid=row[0], relkind=row[1], relispartition=row[2])


def read_constraints(conn, oid):
    rows = fetch_all(conn, """
        SELECT con.conname, con.contype,
               array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                     ORDER BY k.ord)::text[],
               array(SELECT f.conname || ' on ' || f.conrelid::regclass::text FROM pg_constraint f
                     WHERE f.contype = 'f' AND f.confrelid = con.conrelid
                       AND f.conindid = con.conindid)::text[]
        FROM pg_constraint con
        WHERE con.conrelid = %s AND con.contype IN ('p', 'u')
        ORDER BY con.contype, con.conname""", (oid,))
    return [dict(name=r[0], type=r[1], columns=list(r[2]), referenced_by=list(r[3])) for r in rows]


def read_bare_unique_indexes(conn, oid, time_column):
    """Unique indexes that back no constraint and lack the time column."""
    rows = fetch_all(conn, """
        SELECT i.indexrelid::regclass::text FROM pg_index i
        WHERE i.indrelid = %s AND i.indisunique
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
          AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid
                          AND a.attname = %s AND a.attnum = ANY (i.indkey))
        ORDER BY 1""", (oid, time_column))
    return [r[0] for r in rows]


def read_hypertable(conn, schema, table):
    row = fetch_one(conn, """
        SELECT h.compression_enabled, d.column_name, d.time_interval::text
        FROM timescaledb_information.hypertables h
        LEFT JOIN timescaledb_information.dimensions d
          ON d.hypertable_schema = h.hypertable_schema AND d.hypertable_name = h.hypertable_name
         AND d.dimension_number = 1
        WHERE h.hypertable_schema = %s AND h.hypertable_name = %s""", (schema, table))
    if not row:
        return None
    return dict(compression_enabled=bool(row[0]), time_column=row[1], chunk_time_interval=row[2])


def read_policy(conn, schema, table, proc_name, key):
    """(job_id, interval text) of a TimescaleDB policy job, or (None, None)."""
    row = fetch_one(conn, """
        SELECT job_id, (config->>%s)::interval::text FROM timescaledb_information.jobs
        WHERE proc_name = %s AND hypertable_schema = %s AND hypertable_name = %s
        ORDER BY job_id LIMIT 1""", (key, proc_name, schema, table))
    return (row[0], row[1]) if row else (None, None)


class HypertableManager:
    def __init__(self, module, conn):
        self.module = module
        self.conn = conn
        self.params = module.params
        self.ex = Executor(conn, check_mode=module.check_mode)
        self.notes = []
        self.warnings = []
        self.constraints_changed = []
        self.converted = False
        self.cron_conn = None
        self.cron_db = None

    # -- validation and reading
    def interval(self, option, value=None):
        value = self.params[option] if value is None else value
        return normalize_interval(self.conn, value, option)

    def prepare(self):
        p = self.params
        self.schema, self.table = resolve_name(p['table'], p['schema'], 'table')
        self.time_column = validate_identifier(p['time_column'], 'time_column')
        self.rel = sql.Identifier(self.schema, self.table)
        self.rel_text = self.rel.as_string(self.conn)
        self.database = current_database(self.conn)
        self.ts = require_timescaledb(self.conn, self.database)

        # intervals first: a value that does not parse is refused before anything else
        self.chunk_interval = self.interval('chunk_time_interval') if p['chunk_time_interval'] else None
        ca = p['compress_after']
        self.compress_after_remove = bool(ca) and ca.lower() in NO_VALUE
        self.compress_after = self.interval('compress_after') if ca and not self.compress_after_remove else None
        rt = p['retention']
        self.retention_remove = bool(rt) and rt.lower() in NO_VALUE
        self.retention = self.interval('retention') if rt and not self.retention_remove else None
        self.segment_by = [validate_identifier(c, 'compress_segment_by column')
                           for c in p['compress_segment_by']] if p['compress_segment_by'] is not None else None
        self.order_by = [parse_order_by(o) for o in p['compress_order_by']] \
            if p['compress_order_by'] is not None else None
        self.want_compression = desired_compression(p)

        rel = read_relation(self.conn, self.schema, self.table)
        if rel is None:
            raise DbfleetPostgresError('table %s.%s does not exist in database %s'
                                       % (self.schema, self.table, self.database))
        if rel['relkind'] == 'p':
            raise DbfleetPostgresError(
                'table %s.%s is already partitioned natively (PARTITION BY); TimescaleDB cannot '
                'convert a declaratively partitioned table. darkreach.dbfleet.postgres_partition with '
                'state=absent makes it one plain table with every row first (phase 3 does)'
                % (self.schema, self.table))
        if rel['relispartition']:
            raise DbfleetPostgresError('table %s.%s is a partition of a natively partitioned table'
                                       % (self.schema, self.table))
        if rel['relkind'] != 'r':
            raise DbfleetPostgresError('%s.%s is not an ordinary table (relkind %s)'
                                       % (self.schema, self.table, rel['relkind']))
        self.oid = rel['oid']
        col = fetch_one(self.conn, 'SELECT format_type(atttypid, atttypmod), attnotnull FROM pg_attribute '
                                   'WHERE attrelid = %s AND attname = %s AND attnum > 0 '
                                   'AND NOT attisdropped', (self.oid, self.time_column))
        if not col:
            raise DbfleetPostgresError('table %s.%s has no column %s'
                                       % (self.schema, self.table, self.time_column))
        if col[0] not in TIME_TYPES:
            raise DbfleetPostgresError(
                'time column %s of %s.%s is of type %s, not a time type (timestamptz, timestamp, date)'
                % (self.time_column, self.schema, self.table, col[0]))

        self.hyper = read_hypertable(self.conn, self.schema, self.table)
        if self.hyper and self.hyper['time_column'] != self.time_column:
            raise DbfleetPostgresError(
                '%s.%s is already a hypertable partitioned by %s, not %s'
                % (self.schema, self.table, self.hyper['time_column'], self.time_column))
        self.constraint_plan = []
        if not self.hyper:
            nulls = fetch_value(self.conn, sql.SQL('SELECT count(*) FROM {} WHERE {} IS NULL').format(
                self.rel, sql.Identifier(self.time_column)))
            if nulls:
                raise DbfleetPostgresError('time column %s of %s.%s holds NULL in %d row(s)'
                                           % (self.time_column, self.schema, self.table, nulls))
            self.constraint_plan = constraint_plan(read_constraints(self.conn, self.oid),
                                                   self.time_column, p['constraints'])
            bare = read_bare_unique_indexes(self.conn, self.oid, self.time_column)
            if bare:
                raise DbfleetPostgresError(
                    'unique index(es) %s lack the time column %s; TimescaleDB requires it in every '
                    'unique index. Recreate them with %s or as constraints'
                    % (', '.join(bare), self.time_column, self.time_column))

        # compression / retention consistency
        cur_compress_after = None
        if self.ts['tsl'] and self.hyper:
            cur_compress_after = read_policy(self.conn, self.schema, self.table,
                                             'policy_compression', 'compress_after')[1]
        eff_compress = self.compress_after if self.compress_after else (
            None if self.compress_after_remove else cur_compress_after)
        if self.retention and eff_compress:
            check_retention_vs_compression(interval_seconds(self.conn, self.retention),
                                           interval_seconds(self.conn, eff_compress),
                                           self.retention, eff_compress)
        if self.want_compression and not self.ts['tsl'] and p['compression_required']:
            raise DbfleetPostgresError(
                'compression is required but not available: TimescaleDB %s in database %s runs under '
                'the "%s" licence, which refuses compression (it needs the Timescale License build)'
                % (self.ts['version'], self.database, self.ts['license']))

    def read_state(self):
        """The settings a person cares about, for diff and changed."""
        hyper = read_hypertable(self.conn, self.schema, self.table)
        state = dict(hypertable=bool(hyper), time_column=self.time_column,
                     chunk_time_interval=hyper['chunk_time_interval'] if hyper else None,
                     constraints=dict((c['name'], c['columns'])
                                      for c in read_constraints(self.conn, self.oid)),
                     compression=dict(enabled=False, segment_by=[], order_by=[], compress_after=None),
                     retention=dict(drop_after=None, method=None, job_id=None))
        if hyper and hyper['compression_enabled']:
            rows = fetch_all(self.conn, """
                SELECT attname, segmentby_column_index, orderby_column_index, orderby_asc,
                       orderby_nullsfirst FROM timescaledb_information.compression_settings
                WHERE hypertable_schema = %s AND hypertable_name = %s""", (self.schema, self.table))
            seg, order = compression_settings_from_rows(rows)
            state['compression'].update(enabled=True, segment_by=seg,
                                        order_by=[format_order_by(o) for o in order])
        if hyper and self.ts['tsl']:
            state['compression']['compress_after'] = read_policy(
                self.conn, self.schema, self.table, 'policy_compression', 'compress_after')[1]
            job_id, drop_after = read_policy(self.conn, self.schema, self.table,
                                             'policy_retention', 'drop_after')
            if job_id is not None:
                state['retention'].update(drop_after=drop_after, method='policy', job_id=job_id)
        job = self.cron_job()
        if job is not None:
            state['retention'].update(method='pg_cron', job_id=job['jobid'], job_name=job['jobname'],
                                      schedule=job['schedule'], command=job['command'],
                                      drop_after=self.command_interval(job['command']))
        return state

    def command_interval(self, command):
        match = re.search(r"older_than => '([^']*)'::interval", command or '')
        return match.group(1) if match else None

    # -- pg_cron
    def open_cron(self, required):
        if self.cron_conn is not None:
            return True
        self.cron_db = cron_database_name(self.conn)
        if not self.cron_db:
            if required:
                raise DbfleetPostgresError(
                    'retention under the "%s" licence needs pg_cron: add pg_cron to '
                    'shared_preload_libraries and set cron.database_name' % self.ts['license'])
            return False
        if self.cron_db == self.database:
            self.cron_conn = self.conn
        else:
            self.cron_conn = connect(self.module, database=self.cron_db)
        jobs = CronJobs(self.cron_conn, self.ex)
        if not jobs.available():
            if required:
                raise DbfleetPostgresError('retention under the "%s" licence needs the pg_cron '
                                           'extension in database %s (cron.database_name)'
                                           % (self.ts['license'], self.cron_db))
            if self.cron_conn is not self.conn:
                self.cron_conn.close()
            self.cron_conn = None
            self.cron_db = None
            return False
        self.cron = jobs
        return True

    def cron_job(self):
        if self.cron_conn is None:
            return None
        return self.cron.get(retention_job_name(self.database, self.schema, self.table))

    def drop_chunks_command(self):
        return sql.SQL('SELECT {fn}({rel}::regclass, older_than => {iv}::interval)').format(
            fn=sql.Identifier(self.ts['schema'], 'drop_chunks'), rel=sql.Literal(self.rel_text),
            iv=sql.Literal(self.retention)).as_string(self.conn)

    # -- the plan
    def apply(self):
        p = self.params
        ex = self.ex

        def ts_fn(name):
            return sql.Identifier(self.ts['schema'], name)
        regclass = sql.SQL('{}::regclass').format(sql.Literal(self.rel_text))

        if not self.hyper:
            for name, ctype, old, new in self.constraint_plan:
                kind = sql.SQL('PRIMARY KEY' if ctype == 'p' else 'UNIQUE')
                ex.execute(sql.SQL('ALTER TABLE {rel} DROP CONSTRAINT {c}, ADD CONSTRAINT {c} {kind} ({cols})').format(
                    rel=self.rel, c=sql.Identifier(name), kind=kind,
                    cols=sql.SQL(', ').join(sql.Identifier(c) for c in new)))
                self.constraints_changed.append('%s: (%s) -> (%s)' % (name, ', '.join(old), ', '.join(new)))
            if self.chunk_interval:
                dim = sql.SQL('{}({}, {}::interval)').format(ts_fn('by_range'), sql.Literal(self.time_column),
                                                             sql.Literal(self.chunk_interval))
            else:
                dim = sql.SQL('{}({})').format(ts_fn('by_range'), sql.Literal(self.time_column))
            ex.execute(sql.SQL('SELECT {}({}, {}, migrate_data => true)').format(
                ts_fn('create_hypertable'), regclass, dim))
            self.converted = True
        elif self.chunk_interval and not intervals_equal(self.conn, self.chunk_interval,
                                                         self.hyper['chunk_time_interval']):
            ex.execute(sql.SQL('SELECT {}({}, {}::interval)').format(
                ts_fn('set_chunk_time_interval'), regclass, sql.Literal(self.chunk_interval)))
            self.notes.append('the new chunk interval applies to chunks created from now on')

        # compression
        if self.want_compression and not self.ts['tsl']:
            msg = ('compression is unavailable: TimescaleDB %s runs under the "%s" licence, which '
                   'refuses compression; chunks stay uncompressed' % (self.ts['version'], self.ts['license']))
            self.notes.append(msg)
            self.warnings.append(msg)
        elif self.ts['tsl']:
            self.apply_compression(ts_fn, regclass)

        # retention
        self.apply_retention(ts_fn, regclass)

    def apply_compression(self, ts_fn, regclass):
        ex = self.ex
        enabled = bool(self.hyper and self.hyper['compression_enabled'])
        cur_seg, cur_order = [], []
        if enabled:
            rows = fetch_all(self.conn, """
                SELECT attname, segmentby_column_index, orderby_column_index, orderby_asc,
                       orderby_nullsfirst FROM timescaledb_information.compression_settings
                WHERE hypertable_schema = %s AND hypertable_name = %s""", (self.schema, self.table))
            cur_seg, cur_order = compression_settings_from_rows(rows)
        cur_job, cur_after = (None, None)
        if self.hyper:
            cur_job, cur_after = read_policy(self.conn, self.schema, self.table, 'policy_compression',
                                             'compress_after')
        if self.want_compression is False:
            if cur_job is not None:
                ex.execute(sql.SQL('SELECT {}({}, if_exists => true)').format(
                    ts_fn('remove_compression_policy'), regclass))
            if enabled:
                ex.execute(sql.SQL('ALTER TABLE {} SET (timescaledb.compress = false)').format(self.rel))
            return
        if self.want_compression:
            opts = []
            if not enabled:
                opts.append(sql.SQL('timescaledb.compress'))
            if self.segment_by is not None and (not enabled or self.segment_by != cur_seg):
                opts.append(sql.SQL('timescaledb.compress_segmentby = {}').format(
                    sql.Literal(','.join(self.segment_by))))
            if self.order_by is not None and (not enabled or self.order_by != cur_order):
                opts.append(sql.SQL('timescaledb.compress_orderby = {}').format(
                    sql.Literal(', '.join(format_order_by(o) for o in self.order_by))))
            if opts:
                ex.execute(sql.SQL('ALTER TABLE {} SET ({})').format(self.rel, sql.SQL(', ').join(opts)))
        if self.compress_after_remove and cur_job is not None:
            ex.execute(sql.SQL('SELECT {}({}, if_exists => true)').format(
                ts_fn('remove_compression_policy'), regclass))
        elif self.compress_after and (cur_job is None or not intervals_equal(self.conn, cur_after,
                                                                             self.compress_after)):
            if cur_job is not None:
                ex.execute(sql.SQL('SELECT {}({}, if_exists => true)').format(
                    ts_fn('remove_compression_policy'), regclass))
            ex.execute(sql.SQL('SELECT {}({}, compress_after => {}::interval)').format(
                ts_fn('add_compression_policy'), regclass, sql.Literal(self.compress_after)))

    def apply_retention(self, ts_fn, regclass):
        ex = self.ex
        p = self.params
        wants = self.retention is not None
        jobname = retention_job_name(self.database, self.schema, self.table)
        if self.ts['tsl']:
            # a pg_cron job left from an Apache-licensed past is replaced by the policy
            if (wants or self.retention_remove) and self.open_cron(required=False):
                if self.cron.get(jobname):
                    self.cron.remove(jobname)
                    self.notes.append('removed pg_cron retention job %s: a retention policy replaces it'
                                      % jobname)
            cur_job, cur_after = (None, None)
            if self.hyper:
                cur_job, cur_after = read_policy(self.conn, self.schema, self.table, 'policy_retention',
                                                 'drop_after')
            if self.retention_remove and cur_job is not None:
                ex.execute(sql.SQL('SELECT {}({}, if_exists => true)').format(
                    ts_fn('remove_retention_policy'), regclass))
            elif wants and (cur_job is None or not intervals_equal(self.conn, cur_after, self.retention)):
                if cur_job is not None:
                    ex.execute(sql.SQL('SELECT {}({}, if_exists => true)').format(
                        ts_fn('remove_retention_policy'), regclass))
                ex.execute(sql.SQL('SELECT {}({}, drop_after => {}::interval)').format(
                    ts_fn('add_retention_policy'), regclass, sql.Literal(self.retention)))
            return
        if self.retention_remove:
            if self.open_cron(required=False) and self.cron.get(jobname):
                self.cron.remove(jobname)
            return
        if wants:
            self.open_cron(required=True)
            self.cron.ensure(jobname, p['retention_schedule'], self.drop_chunks_command(), self.database)
            self.notes.append(
                'retention by pg_cron job %s (schedule "%s") calling drop_chunks: the "%s" licence '
                'refuses add_retention_policy' % (jobname, p['retention_schedule'], self.ts['license']))

    def predicted_after(self, before):
        """The state check mode promises: before with the plan applied."""
        after = dict((k, dict(v) if isinstance(v, dict) else v) for k, v in before.items())
        if self.converted:
            after['hypertable'] = True
            after['chunk_time_interval'] = self.chunk_interval or '7 days'
            for name, _ctype, _old, new in self.constraint_plan:
                after['constraints'][name] = new
        elif self.chunk_interval:
            after['chunk_time_interval'] = self.chunk_interval
        comp = after['compression']
        if self.ts['tsl']:
            if self.want_compression is False:
                comp.update(enabled=False, segment_by=[], order_by=[], compress_after=None)
            elif self.want_compression:
                comp['enabled'] = True
                if self.segment_by is not None:
                    comp['segment_by'] = list(self.segment_by)
                if self.order_by is not None:
                    comp['order_by'] = [format_order_by(o) for o in self.order_by]
            if self.compress_after_remove:
                comp['compress_after'] = None
            elif self.compress_after:
                comp['compress_after'] = self.compress_after
        ret = after['retention']
        if self.retention_remove:
            after['retention'] = dict(drop_after=None, method=None, job_id=None)
        elif self.retention:
            if self.ts['tsl']:
                after['retention'] = dict(drop_after=self.retention, method='policy',
                                          job_id=ret.get('job_id') if ret.get('method') == 'policy' else None)
            else:
                after['retention'] = dict(
                    ret, drop_after=self.retention, method='pg_cron',
                    job_name=retention_job_name(self.database, self.schema, self.table),
                    schedule=self.params['retention_schedule'], command=self.drop_chunks_command())
        return after


def comparable(state):
    """State without ids that a re-creation may change (for changed)."""
    out = dict(state)
    out['retention'] = dict((k, v) for k, v in state['retention'].items() if k != 'job_id')
    return out


def main():
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        table=dict(type='str', required=True, aliases=['name']),
        schema=dict(type='str', default='public'),
        time_column=dict(type='str', required=True),
        chunk_time_interval=dict(type='str'),
        constraints=dict(type='str', default='extend', choices=['extend', 'keep']),
        compression=dict(type='bool'),
        compress_segment_by=dict(type='list', elements='str'),
        compress_order_by=dict(type='list', elements='str'),
        compress_after=dict(type='str'),
        compression_required=dict(type='bool', default=False),
        retention=dict(type='str'),
        retention_schedule=dict(type='str', default='30 3 * * *'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    conn = connect(module)
    mgr = HypertableManager(module, conn)
    try:
        mgr.prepare()
        if mgr.params['retention'] and not mgr.ts['tsl']:
            mgr.open_cron(required=True)
        else:
            mgr.open_cron(required=False)
        before = mgr.read_state()
        mgr.apply()
        if module.check_mode:
            after = mgr.predicted_after(before)
            conn.rollback()
            if mgr.cron_conn is not None and mgr.cron_conn is not conn:
                mgr.cron_conn.rollback()
        else:
            after = mgr.read_state()
            conn.commit()
            if mgr.cron_conn is not None and mgr.cron_conn is not conn:
                mgr.cron_conn.commit()
    except DbfleetPostgresError as exc:
        conn.rollback()
        if mgr.cron_conn is not None and mgr.cron_conn is not conn:
            mgr.cron_conn.rollback()
        module.fail_json(msg=str(exc), queries=mgr.ex.queries, changed=False)
    except psycopg2.Error as exc:
        conn.rollback()
        if mgr.cron_conn is not None and mgr.cron_conn is not conn:
            mgr.cron_conn.rollback()
        last = mgr.ex.queries[-1] if mgr.ex.queries else ''
        module.fail_json(msg='PostgreSQL refused "%s": %s (nothing was changed)' % (last, to_text_error(exc)),
                         queries=mgr.ex.queries, changed=False)

    for warning in mgr.warnings:
        module.warn(warning)
    changed = comparable(before) != comparable(after)
    comp = after['compression']
    if not mgr.ts['tsl']:
        status = 'unavailable' if mgr.want_compression else ('enabled' if comp['enabled'] else 'disabled')
    else:
        status = 'enabled' if comp['enabled'] else 'disabled'
    result = dict(
        changed=changed,
        hypertable=after['hypertable'],
        converted=mgr.converted,
        license=mgr.ts['license'],
        timescaledb_version=mgr.ts['version'],
        chunk_time_interval=after['chunk_time_interval'],
        compression=dict(comp, status=status),
        retention=after['retention'],
        constraints_changed=mgr.constraints_changed,
        notes=mgr.notes,
        queries=mgr.ex.queries,
    )
    if module._diff:
        result['diff'] = dict(before=before, after=after)
    conn.close()
    if mgr.cron_conn is not None and mgr.cron_conn is not conn:
        mgr.cron_conn.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
