#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: timescaledb_continuous_aggregate
short_description: Create or update a TimescaleDB continuous aggregate and its refresh schedule
version_added: 0.1.0
description:
  - Creates a continuous aggregate over a hypertable from a C(SELECT ... time_bucket(...) ... GROUP BY)
    query, with a refresh policy (window and schedule), and keeps both as declared.
  - Under the Apache-licensed TimescaleDB build (C(timescaledb.license=apache), what Debian
    ships), where continuous aggregates and policies are refused, the aggregate becomes a
    materialized view with a unique index on O(unique_key), refreshed with
    C(REFRESH MATERIALIZED VIEW CONCURRENTLY) by a pg_cron job on the policy's schedule.
    Such a refresh recomputes the whole view, which covers the policy's window. The result
    states which way was taken.
  - The definition is recorded as a hash in the view's comment. A changed O(query) is refused
    unless O(recreate=true), because rebuilding loses buckets whose raw rows retention has
    already dropped.
author:
  - darkreach engineering (@darkreach)
extends_documentation_fragment:
  - darkreach.dbfleet.postgres
attributes:
  check_mode:
    support: full
    description: Validates the input (the query is prepared, not run) and returns the plan as RV(queries) without changing anything.
  diff_mode:
    support: full
    description: Returns the aggregate's settings before and after.
options:
  name:
    description:
      - Name of the aggregate view; V(schema.name) or a bare name in O(schema).
    type: str
    required: true
  schema:
    description:
      - Schema of O(name) when O(name) is not qualified.
    type: str
    default: public
  state:
    description:
      - V(present) creates or updates the aggregate, V(absent) drops it with its refresh job.
    type: str
    choices: [ present, absent ]
    default: present
  query:
    description:
      - The C(SELECT) defining the aggregate, grouping by a C(time_bucket) of the hypertable's
        time column. Required with O(state=present).
    type: str
  unique_key:
    description:
      - Output columns that identify one row (the bucket and the group-by columns).
      - Required under the Apache licence, where it becomes the unique index that a concurrent
        refresh needs; not used by a continuous aggregate.
    type: list
    elements: str
  with_data:
    description:
      - Materialize the existing data when the aggregate is created.
      - Under the Apache licence the view is always created with data (a concurrent refresh
        needs a populated view).
    type: bool
    default: true
  recreate:
    description:
      - Drop and recreate the aggregate when its O(query) differs from the one it was created with
        (or it was not created by this module). Otherwise such a difference fails the task.
    type: bool
    default: false
  refresh_policy:
    description:
      - The refresh window and schedule. Unset leaves the current policy or job alone.
    type: dict
    suboptions:
      enabled:
        description:
          - V(false) removes the refresh policy (or pg_cron job).
        type: bool
        default: true
      start_offset:
        description:
          - Start of the refresh window, as an age (interval). Unset refreshes from the beginning.
        type: str
      end_offset:
        description:
          - End of the refresh window, as an age (interval); must be shorter than O(refresh_policy.start_offset).
        type: str
        default: 1 hour
      schedule_interval:
        description:
          - How often the refresh runs (interval).
        type: str
        default: 1 hour
      cron_schedule:
        description:
          - pg_cron schedule of the refresh job under the Apache licence. Unset derives it from
            O(refresh_policy.schedule_interval) (whole seconds below a minute, minutes dividing an
            hour, hours dividing a day, or one day).
        type: str
'''

EXAMPLES = r'''
- name: Hourly rollup of metric_samples, refreshed every hour over the last three days
  darkreach.dbfleet.timescaledb_continuous_aggregate:
    login_db: darkreach
    name: metric_rollups_hourly
    query: >-
      SELECT time_bucket(INTERVAL '1 hour', sampled_at) AS bucket, scope, metric, labels,
             count(*) AS sample_count, sum(value) AS value_sum,
             min(value) AS value_min, max(value) AS value_max
      FROM metric_samples GROUP BY 1, 2, 3, 4
    unique_key: [bucket, scope, metric, labels]
    refresh_policy:
      start_offset: 3 days
      end_offset: 1 hour
      schedule_interval: 1 hour

- name: Drop an aggregate
  darkreach.dbfleet.timescaledb_continuous_aggregate:
    login_db: darkreach
    name: metric_rollups_minutely
    state: absent
'''

RETURN = r'''
kind:
  description: What the aggregate is after the task, V(continuous_aggregate), V(materialized_view) or V(absent).
  returned: always
  type: str
  sample: materialized_view
timescaledb_version:
  description: Version of the TimescaleDB extension in the database.
  returned: always
  type: str
  sample: 2.19.3
license:
  description: The server's C(timescaledb.license).
  returned: always
  type: str
  sample: apache
refresh:
  description: How the aggregate is refreshed after the task.
  returned: always
  type: dict
  contains:
    method:
      description: V(policy) (continuous aggregate policy), V(pg_cron) (concurrent refresh job) or null.
      type: str
    start_offset:
      description: Start of the window.
      type: str
    end_offset:
      description: End of the window.
      type: str
    schedule_interval:
      description: Interval between refreshes.
      type: str
    job_id:
      description: Id of the TimescaleDB job or pg_cron job.
      type: int
    job_name:
      description: Name of the pg_cron job.
      type: str
    cron_schedule:
      description: Schedule of the pg_cron job.
      type: str
  sample: {method: pg_cron, cron_schedule: '0 * * * *', start_offset: 3 days, end_offset: '01:00:00'}
unique_key:
  description: Columns of the unique index (materialized view only).
  returned: always
  type: list
  elements: str
notes:
  description: Statements of what was done another way (licence fallbacks).
  returned: always
  type: list
  elements: str
queries:
  description: Statements that ran, or would run in check mode, in order.
  returned: always
  type: list
  elements: str
'''

import hashlib

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    CronJobs,
    DbfleetPostgresError,
    Executor,
    connect,
    cron_database_name,
    current_database,
    fetch_one,
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

MARKER = 'dbfleet:sha256='


# --- pure logic (unit-tested) -----------------------------------------------------

def normalize_query(query):
    """Whitespace collapsed, trailing semicolons dropped: what the hash covers."""
    text = ' '.join((query or '').split())
    while text.endswith(';'):
        text = text[:-1].rstrip()
    return text


def query_hash(query):
    return hashlib.sha256(normalize_query(query).encode('utf-8')).hexdigest()


def marker_comment(query):
    return '%s%s (managed by darkreach.dbfleet.timescaledb_continuous_aggregate)' % (
        MARKER, query_hash(query))


def hash_from_comment(comment):
    if not comment or MARKER not in comment:
        return None
    return comment.split(MARKER, 1)[1][:64]


def cron_from_interval(seconds):
    """A pg_cron schedule that runs every ``seconds``, or None when cron cannot say it."""
    seconds = int(seconds) if float(seconds) == int(seconds) else None
    if seconds is None or seconds <= 0:
        return None
    if seconds < 60:
        return '%d seconds' % seconds
    if seconds % 60 == 0 and seconds < 3600 and 60 % (seconds // 60) == 0:
        minutes = seconds // 60
        return '* * * * *' if minutes == 1 else '*/%d * * * *' % minutes
    if seconds % 3600 == 0 and seconds < 86400 and 24 % (seconds // 3600) == 0:
        hours = seconds // 3600
        return '0 * * * *' if hours == 1 else '0 */%d * * *' % hours
    if seconds == 86400:
        return '0 0 * * *'
    return None


def refresh_job_name(database, schema, name):
    return 'dbfleet_refresh:%s.%s.%s' % (database, schema, name)


def unique_index_name(name):
    return (name[:50] + '_unique_key')


# --- the module -------------------------------------------------------------------

class AggregateManager:
    def __init__(self, module, conn):
        self.module = module
        self.conn = conn
        self.params = module.params
        self.ex = Executor(conn, check_mode=module.check_mode)
        self.notes = []
        self.cron_conn = None
        self.cron = None

    def prepare(self):
        p = self.params
        self.schema, self.name = resolve_name(p['name'], p['schema'], 'aggregate')
        self.view = sql.Identifier(self.schema, self.name)
        self.view_text = self.view.as_string(self.conn)
        self.database = current_database(self.conn)
        self.ts = require_timescaledb(self.conn, self.database)
        self.unique_key = [validate_identifier(c, 'unique_key column') for c in p['unique_key']] \
            if p['unique_key'] else None
        self.policy = None
        rp = p['refresh_policy']
        if rp is not None and p['state'] == 'present':
            pol = dict(enabled=rp['enabled'])
            if rp['enabled']:
                pol['start_offset'] = normalize_interval(self.conn, rp['start_offset'], 'refresh_policy.start_offset') \
                    if rp['start_offset'] else None
                pol['end_offset'] = normalize_interval(self.conn, rp['end_offset'], 'refresh_policy.end_offset')
                pol['schedule_interval'] = normalize_interval(self.conn, rp['schedule_interval'],
                                                              'refresh_policy.schedule_interval')
                if pol['start_offset'] and interval_seconds(self.conn, pol['start_offset']) <= \
                        interval_seconds(self.conn, pol['end_offset']):
                    raise DbfleetPostgresError(
                        'refresh window is empty: start_offset %s must be longer than end_offset %s'
                        % (pol['start_offset'], pol['end_offset']))
                pol['cron_schedule'] = rp['cron_schedule'] or cron_from_interval(
                    interval_seconds(self.conn, pol['schedule_interval']))
                if not self.ts['tsl'] and not pol['cron_schedule']:
                    raise DbfleetPostgresError(
                        'refresh_policy.schedule_interval %s cannot be written as a pg_cron schedule; '
                        'set refresh_policy.cron_schedule' % pol['schedule_interval'])
            self.policy = pol
        if p['state'] == 'present':
            if not p['query']:
                raise DbfleetPostgresError('query is required with state=present')
            if not self.ts['tsl'] and not self.unique_key:
                raise DbfleetPostgresError(
                    'unique_key is required under the "%s" licence: the aggregate becomes a '
                    'materialized view whose concurrent refresh needs a unique index'
                    % self.ts['license'])
            self.check_query(p['query'])
        self.jobname = refresh_job_name(self.database, self.schema, self.name)

    def check_query(self, query):
        """PREPARE parses and analyses the query without running it."""
        if not normalize_query(query).lower().startswith(('select', 'with')):
            raise DbfleetPostgresError('query must be a SELECT statement')
        try:
            with self.conn.cursor() as cur:
                cur.execute('PREPARE dbfleet_aggregate_check AS ' + normalize_query(query))
                cur.execute('DEALLOCATE dbfleet_aggregate_check')
        except psycopg2.Error as exc:
            if not self.conn.autocommit:
                self.conn.rollback()
            raise DbfleetPostgresError('query does not compile: %s' % to_text_error(exc))

    def open_cron(self, required):
        if self.cron is not None:
            return True
        cron_db = cron_database_name(self.conn)
        if not cron_db:
            if required:
                raise DbfleetPostgresError(
                    'refreshing a materialized view under the "%s" licence needs pg_cron: add it '
                    'to shared_preload_libraries and set cron.database_name' % self.ts['license'])
            return False
        self.cron_conn = self.conn if cron_db == self.database else connect(self.module, database=cron_db)
        jobs = CronJobs(self.cron_conn, self.ex)
        if not jobs.available():
            if required:
                raise DbfleetPostgresError('refreshing under the "%s" licence needs the pg_cron '
                                           'extension in database %s' % (self.ts['license'], cron_db))
            return False
        self.cron = jobs
        return True

    def read_state(self):
        row = fetch_one(self.conn, 'SELECT c.oid, c.relkind, obj_description(c.oid, \'pg_class\') '
                                   'FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace '
                                   'WHERE n.nspname = %s AND c.relname = %s', (self.schema, self.name))
        state = dict(kind='absent', definition=None, unique_key=[], refresh=dict(method=None))
        if not row:
            return state
        oid, relkind, comment = row
        cagg = fetch_one(self.conn, 'SELECT 1 FROM timescaledb_information.continuous_aggregates '
                                    'WHERE view_schema = %s AND view_name = %s', (self.schema, self.name))
        if cagg:
            state['kind'] = 'continuous_aggregate'
        elif relkind == 'm':
            state['kind'] = 'materialized_view'
        else:
            raise DbfleetPostgresError('%s.%s exists and is neither a continuous aggregate nor a '
                                       'materialized view (relkind %s)' % (self.schema, self.name, relkind))
        state['definition'] = hash_from_comment(comment)
        idx = fetch_one(self.conn, """
            SELECT array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                         ORDER BY k.ord)::text[]
            FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
            WHERE i.indrelid = %s AND i.indisunique AND ic.relname = %s""",
                        (oid, unique_index_name(self.name)))
        if idx:
            state['unique_key'] = list(idx[0])
        if state['kind'] == 'continuous_aggregate':
            job = fetch_one(self.conn, """
                SELECT j.job_id, (j.config->>'start_offset')::interval::text,
                       (j.config->>'end_offset')::interval::text, j.schedule_interval::text
                FROM timescaledb_information.jobs j
                JOIN timescaledb_information.continuous_aggregates ca
                  ON j.hypertable_schema IN (ca.view_schema, ca.materialization_hypertable_schema)
                 AND j.hypertable_name IN (ca.view_name, ca.materialization_hypertable_name)
                WHERE j.proc_name = 'policy_refresh_continuous_aggregate'
                  AND ca.view_schema = %s AND ca.view_name = %s ORDER BY j.job_id LIMIT 1""",
                            (self.schema, self.name))
            if job:
                state['refresh'] = dict(method='policy', job_id=job[0], start_offset=job[1],
                                        end_offset=job[2], schedule_interval=job[3])
        if self.cron is not None:
            job = self.cron.get(self.jobname)
            if job:
                state['refresh'] = dict(method='pg_cron', job_id=job['jobid'], job_name=self.jobname,
                                        cron_schedule=job['schedule'], command=job['command'])
        return state

    def refresh_command(self):
        return 'REFRESH MATERIALIZED VIEW CONCURRENTLY %s' % self.view_text

    def apply(self, before):
        p = self.params
        ex = self.ex

        def fn(name):
            return sql.Identifier(self.ts['schema'], name)
        regclass = sql.SQL('{}::regclass').format(sql.Literal(self.view_text))
        want_kind = 'continuous_aggregate' if self.ts['tsl'] else 'materialized_view'
        drop_kw = sql.SQL('DROP MATERIALIZED VIEW {}').format(self.view)

        if p['state'] == 'absent':
            if self.cron is not None and self.cron.get(self.jobname):
                self.cron.remove(self.jobname)
            if before['kind'] != 'absent':
                ex.execute(drop_kw)
            return

        exists = before['kind'] != 'absent'
        want_hash = query_hash(p['query'])
        if exists and (before['kind'] != want_kind or before['definition'] != want_hash):
            why = ('is a %s, but under the "%s" licence it should be a %s'
                   % (before['kind'].replace('_', ' '), self.ts['license'], want_kind.replace('_', ' '))
                   if before['kind'] != want_kind else
                   ('was not created by this module' if before['definition'] is None
                    else 'was created from a different query'))
            if not p['recreate']:
                raise DbfleetPostgresError(
                    'aggregate %s.%s %s; set recreate=true to drop and rebuild it (buckets whose raw '
                    'rows are gone are lost)' % (self.schema, self.name, why))
            if self.cron is not None and self.cron.get(self.jobname):
                self.cron.remove(self.jobname)
            ex.execute(drop_kw)
            self.notes.append('dropped and recreated %s.%s: it %s' % (self.schema, self.name, why))
            exists = False
            before = dict(before, refresh=dict(method=None), unique_key=[])

        query = sql.SQL(normalize_query(p['query']))
        if not exists:
            if self.ts['tsl']:
                ex.execute(sql.SQL('CREATE MATERIALIZED VIEW {} WITH (timescaledb.continuous) AS {} WITH {}').format(
                    self.view, query, sql.SQL('DATA' if p['with_data'] else 'NO DATA')))
                ex.execute(sql.SQL('COMMENT ON VIEW {} IS {}').format(self.view, sql.Literal(marker_comment(p['query']))))
            else:
                ex.execute(sql.SQL('CREATE MATERIALIZED VIEW {} AS {} WITH DATA').format(self.view, query))
                ex.execute(sql.SQL('COMMENT ON MATERIALIZED VIEW {} IS {}').format(
                    self.view, sql.Literal(marker_comment(p['query']))))
                self.notes.append(
                    'continuous aggregates are refused under the "%s" licence: %s.%s is a materialized '
                    'view with unique index %s' % (self.ts['license'], self.schema, self.name,
                                                   unique_index_name(self.name)))

        if not self.ts['tsl'] and (not exists or before['unique_key'] != self.unique_key):
            idx = sql.Identifier(unique_index_name(self.name))
            if exists and before['unique_key']:
                ex.execute(sql.SQL('DROP INDEX {}').format(sql.Identifier(self.schema, unique_index_name(self.name))))
            ex.execute(sql.SQL('CREATE UNIQUE INDEX {} ON {} ({})').format(
                idx, self.view, sql.SQL(', ').join(sql.Identifier(c) for c in self.unique_key)))

        pol = self.policy
        if pol is None:
            return
        cur = before['refresh'] if exists else dict(method=None)
        if self.ts['tsl']:
            if self.cron is not None and self.cron.get(self.jobname):
                self.cron.remove(self.jobname)
            has = cur.get('method') == 'policy'
            if not pol['enabled']:
                if has:
                    ex.execute(sql.SQL('SELECT {}({}, if_exists => true)').format(
                        fn('remove_continuous_aggregate_policy'), regclass))
                return
            same = has and ((cur['start_offset'] is None and pol['start_offset'] is None) or (
                cur['start_offset'] is not None and pol['start_offset'] is not None
                and intervals_equal(self.conn, cur['start_offset'], pol['start_offset']))) \
                and intervals_equal(self.conn, cur['end_offset'], pol['end_offset']) \
                and intervals_equal(self.conn, cur['schedule_interval'], pol['schedule_interval'])
            if not same:
                if has:
                    ex.execute(sql.SQL('SELECT {}({}, if_exists => true)').format(
                        fn('remove_continuous_aggregate_policy'), regclass))
                start = sql.SQL('NULL') if pol['start_offset'] is None else \
                    sql.SQL('{}::interval').format(sql.Literal(pol['start_offset']))
                ex.execute(sql.SQL('SELECT {}({}, start_offset => {}, end_offset => {}::interval, '
                                   'schedule_interval => {}::interval)').format(
                    fn('add_continuous_aggregate_policy'), regclass, start,
                    sql.Literal(pol['end_offset']), sql.Literal(pol['schedule_interval'])))
            return
        if not pol['enabled']:
            if self.cron is not None and self.cron.get(self.jobname):
                self.cron.remove(self.jobname)
            return
        self.open_cron(required=True)
        self.cron.ensure(self.jobname, pol['cron_schedule'], self.refresh_command(), self.database)
        self.notes.append(
            'refresh by pg_cron job %s (schedule "%s") running %s: policies are refused under the "%s" '
            'licence; each refresh recomputes the whole view, which covers the window %s .. %s'
            % (self.jobname, pol['cron_schedule'], self.refresh_command(), self.ts['license'],
               pol['start_offset'] or 'the beginning', pol['end_offset']))

    def predicted_after(self, before):
        p = self.params
        if p['state'] == 'absent':
            return dict(kind='absent', definition=None, unique_key=[], refresh=dict(method=None))
        after = dict(before, kind='continuous_aggregate' if self.ts['tsl'] else 'materialized_view',
                     definition=query_hash(p['query']))
        if not self.ts['tsl']:
            after['unique_key'] = list(self.unique_key)
        recreated = any(n.startswith('dropped and recreated') for n in self.notes)
        if recreated:
            after['refresh'] = dict(method=None)
        pol = self.policy
        if pol is not None:
            if not pol['enabled']:
                after['refresh'] = dict(method=None)
            elif self.ts['tsl']:
                after['refresh'] = dict(method='policy', job_id=None, start_offset=pol['start_offset'],
                                        end_offset=pol['end_offset'], schedule_interval=pol['schedule_interval'])
            else:
                after['refresh'] = dict(method='pg_cron', job_id=before['refresh'].get('job_id'),
                                        job_name=self.jobname, cron_schedule=pol['cron_schedule'],
                                        command=self.refresh_command())
        return after


def comparable(state, conn):
    """State without ids, intervals canonical (for changed)."""
    out = dict(state)
    ref = dict((k, v) for k, v in state['refresh'].items() if k != 'job_id')
    for key in ('start_offset', 'end_offset', 'schedule_interval'):
        if ref.get(key):
            ref[key] = normalize_interval(conn, ref[key], key)
    out['refresh'] = ref
    return out


def main():
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        name=dict(type='str', required=True),
        schema=dict(type='str', default='public'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        query=dict(type='str'),
        unique_key=dict(type='list', elements='str', no_log=False),
        with_data=dict(type='bool', default=True),
        recreate=dict(type='bool', default=False),
        refresh_policy=dict(type='dict', options=dict(
            enabled=dict(type='bool', default=True),
            start_offset=dict(type='str'),
            end_offset=dict(type='str', default='1 hour'),
            schedule_interval=dict(type='str', default='1 hour'),
            cron_schedule=dict(type='str'),
        )),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_if=[('state', 'present', ['query'])])
    # a continuous aggregate created WITH DATA cannot be created inside a transaction
    conn = connect(module, autocommit=True)
    mgr = AggregateManager(module, conn)
    try:
        mgr.prepare()
        if not mgr.ts['tsl']:
            conn.autocommit = False
        mgr.open_cron(required=(not mgr.ts['tsl'] and mgr.params['state'] == 'present'
                                and mgr.policy is not None and mgr.policy['enabled']))
        before = mgr.read_state()
        mgr.apply(before)
        if module.check_mode:
            after = mgr.predicted_after(before)
        else:
            if not conn.autocommit:
                conn.commit()
            if mgr.cron_conn is not None and mgr.cron_conn is not conn:
                mgr.cron_conn.commit()
            after = mgr.read_state()
        changed = comparable(before, conn) != comparable(after, conn)
    except DbfleetPostgresError as exc:
        if not conn.autocommit:
            conn.rollback()
        module.fail_json(msg=str(exc), queries=mgr.ex.queries, changed=False)
    except psycopg2.Error as exc:
        if not conn.autocommit:
            conn.rollback()
        last = mgr.ex.queries[-1] if mgr.ex.queries else ''
        module.fail_json(msg='PostgreSQL refused "%s": %s' % (last, to_text_error(exc)),
                         queries=mgr.ex.queries, changed=bool(conn.autocommit and len(mgr.ex.queries) > 1))
    if not conn.autocommit:
        conn.rollback()
    if mgr.cron_conn is not None and mgr.cron_conn is not conn:
        mgr.cron_conn.rollback()
        mgr.cron_conn.close()
    conn.close()
    result = dict(changed=changed, kind=after['kind'], license=mgr.ts['license'],
                  timescaledb_version=mgr.ts['version'], refresh=after['refresh'],
                  unique_key=after['unique_key'], notes=mgr.notes, queries=mgr.ex.queries)
    if module._diff:
        result['diff'] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
