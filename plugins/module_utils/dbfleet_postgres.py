# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared PostgreSQL connection code for the darkreach.dbfleet modules.

Every module extends ``postgres_common_argument_spec()`` (documented once by the
``darkreach.dbfleet.postgres`` doc fragment) and connects with ``connect()``.
The helpers here quote identifiers with psycopg2's ``sql.Identifier``, refuse
unsafe names, normalise intervals by asking the server, and read what the
TimescaleDB extension offers (version, ``timescaledb.license``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import traceback

from ansible.module_utils.basic import missing_required_lib

PSYCOPG2_IMP_ERR = None
try:
    import psycopg2
    from psycopg2 import sql
    import psycopg2.extras  # noqa: F401  pylint: disable=unused-import
    HAS_PSYCOPG2 = True
except ImportError:
    PSYCOPG2_IMP_ERR = traceback.format_exc()
    psycopg2 = None  # pylint: disable=invalid-name
    sql = None  # pylint: disable=invalid-name
    HAS_PSYCOPG2 = False

SSL_MODES = ['allow', 'disable', 'prefer', 'require', 'verify-ca', 'verify-full']

# An identifier we are willing to quote and hand to PostgreSQL: letters, digits,
# underscores and dollar signs, not starting with a digit, at most 63 bytes.
_IDENTIFIER_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_$]*$')
MAX_IDENTIFIER_LENGTH = 63

TIME_TYPES = ('timestamp with time zone', 'timestamp without time zone', 'date')


class DbfleetPostgresError(Exception):
    """A problem that a module should report with fail_json (message for a person)."""


def postgres_common_argument_spec():
    """The connection options every dbfleet PostgreSQL module accepts."""
    return dict(
        login_host=dict(type='str', default='', aliases=['host']),
        login_port=dict(type='int', default=5432, aliases=['port']),
        login_user=dict(type='str', default='postgres', aliases=['user']),
        login_password=dict(type='str', default='', no_log=True, aliases=['password']),
        login_unix_socket=dict(type='str', default='', aliases=['unix_socket']),
        login_db=dict(type='str', default='', aliases=['db', 'database']),
        ssl_mode=dict(type='str', default='prefer', choices=SSL_MODES),
        ca_cert=dict(type='path', aliases=['ssl_rootcert']),
        connect_timeout=dict(type='int', default=30),
    )


def endpoint_argument_spec(required=True):
    """A second server given as one option (for example the cutover's ``source``):
    a dict with the same keys as the common options, without their aliases."""
    options = postgres_common_argument_spec()
    for spec in options.values():
        spec.pop('aliases', None)
    return dict(type='dict', required=required, options=options)


def ensure_psycopg2(module):
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMP_ERR)


def connection_params(params, database=None):
    """psycopg2.connect() keyword arguments from module params (pure function)."""
    kw = {}
    host = params.get('login_host') or params.get('login_unix_socket')
    if host:
        kw['host'] = host
    if params.get('login_port'):
        kw['port'] = params['login_port']
    if params.get('login_user'):
        kw['user'] = params['login_user']
    if params.get('login_password'):
        kw['password'] = params['login_password']
    db = database or params.get('login_db')
    if db:
        kw['dbname'] = db
    if params.get('ssl_mode'):
        kw['sslmode'] = params['ssl_mode']
    if params.get('ca_cert'):
        kw['sslrootcert'] = params['ca_cert']
    if params.get('connect_timeout'):
        kw['connect_timeout'] = params['connect_timeout']
    kw['application_name'] = 'dbfleet'
    return kw


def connect(module, database=None, autocommit=False, params=None, what='database'):
    """Open a psycopg2 connection with the module's login options.

    ``database`` overrides ``login_db`` (for example to reach pg_cron's database);
    ``params`` gives another set of login options (an ``endpoint_argument_spec()``
    option such as the cutover's ``source``), named ``what`` in messages.
    Fails the module with a readable message when the server cannot be reached.
    """
    ensure_psycopg2(module)
    kw = connection_params(module.params if params is None else params, database=database)
    try:
        conn = psycopg2.connect(**kw)
    except psycopg2.Error as exc:
        module.fail_json(msg='unable to connect to %s %s on %s:%s: %s' % (
            what, kw.get('dbname', '(default)'), kw.get('host', '(local socket)'),
            kw.get('port', 5432), to_text_error(exc)))
    conn.autocommit = autocommit
    return conn


def to_text_error(exc):
    """The server's message of a psycopg2 error, on one line where possible."""
    text = str(getattr(exc, 'pgerror', None) or exc).strip()
    return text.replace('\n', ' ').replace('  ', ' ')


def validate_identifier(name, what='identifier'):
    """Return ``name`` if it is a plain, safe identifier, else raise DbfleetPostgresError."""
    if not isinstance(name, str) or not name:
        raise DbfleetPostgresError('%s must be a non-empty name' % what)
    if len(name.encode('utf-8')) > MAX_IDENTIFIER_LENGTH:
        raise DbfleetPostgresError('%s "%s" is longer than %d bytes' % (what, name, MAX_IDENTIFIER_LENGTH))
    if not _IDENTIFIER_RE.match(name):
        raise DbfleetPostgresError(
            '%s "%s" is not a safe identifier (letters, digits, "_" and "$", not starting '
            'with a digit)' % (what, name))
    return name


def split_qualified_name(name, default_schema='public', what='table'):
    """``'schema.table'`` or ``'table'`` -> (schema, table), both validated."""
    if not isinstance(name, str) or not name:
        raise DbfleetPostgresError('%s must be a non-empty name' % what)
    parts = name.split('.')
    if len(parts) == 1:
        schema, rel = default_schema, parts[0]
    elif len(parts) == 2:
        schema, rel = parts
    else:
        raise DbfleetPostgresError('%s "%s" has more than one dot; use schema.name' % (what, name))
    validate_identifier(schema, 'schema of %s "%s"' % (what, name))
    validate_identifier(rel, '%s' % what)
    return schema, rel


def resolve_name(name, schema, what):
    """``'schema.name'``, or ``name`` in ``schema`` -> (schema, name), both validated."""
    if '.' in name:
        return split_qualified_name(name, what=what)
    return validate_identifier(schema, 'schema'), validate_identifier(name, what)


def ident(*names):
    """A (possibly qualified) identifier: ident('public', 'metric_samples')."""
    return sql.Identifier(*names)


def qualified(schema, name):
    return sql.Identifier(schema, name)


def render(conn, query):
    """The text of a composed query, for the ``queries`` result."""
    if isinstance(query, str):
        return query
    return query.as_string(conn)


def mogrify(cursor, query, params=None):
    text = cursor.mogrify(query, params)
    return text.decode('utf-8') if isinstance(text, bytes) else text


class Executor:
    """Runs or records statements; in check mode it only records them.

    ``queries`` lists every statement that ran (or would run), with parameters
    bound, in order.
    """

    def __init__(self, conn, check_mode=False):
        self.conn = conn
        self.check_mode = check_mode
        self.queries = []

    def execute(self, query, params=None, conn=None):
        conn = conn or self.conn
        with conn.cursor() as cur:
            self.queries.append(mogrify(cur, query, params))
            if self.check_mode:
                return None
            cur.execute(query, params)
            if cur.description:
                return cur.fetchall()
            return None


def fetch_all(conn, query, params=None):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def fetch_one(conn, query, params=None):
    rows = fetch_all(conn, query, params)
    return rows[0] if rows else None


def fetch_value(conn, query, params=None):
    row = fetch_one(conn, query, params)
    return row[0] if row else None


def normalize_interval(conn, value, option='interval'):
    """Ask the server to parse ``value`` as an interval; return its canonical text.

    Raises DbfleetPostgresError naming the option and the value when it does not
    parse. Runs in a savepoint so a failure does not abort the caller's transaction.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)) or not str(value).strip():
        raise DbfleetPostgresError('%s: "%s" is not an interval (write for example "7 days")'
                                   % (option, value))
    with conn.cursor() as cur:
        in_tx = not conn.autocommit
        if in_tx:
            cur.execute('SAVEPOINT dbfleet_interval')
        try:
            cur.execute('SELECT %s::interval::text', (str(value),))
            text = cur.fetchone()[0]
        except psycopg2.Error as exc:
            if in_tx:
                cur.execute('ROLLBACK TO SAVEPOINT dbfleet_interval')
            raise DbfleetPostgresError('%s: "%s" is not a valid PostgreSQL interval (%s)'
                                       % (option, value, to_text_error(exc)))
        if in_tx:
            cur.execute('RELEASE SAVEPOINT dbfleet_interval')
    return text


def interval_seconds(conn, value):
    """Seconds in an interval as the server counts them (a month is 30 days)."""
    return float(fetch_value(conn, 'SELECT EXTRACT(EPOCH FROM %s::interval)', (value,)))


def intervals_equal(conn, left, right):
    if left is None or right is None:
        return left is None and right is None
    return bool(fetch_value(conn, 'SELECT %s::interval = %s::interval', (left, right)))


def server_setting(conn, name):
    """current_setting(name, missing_ok) -> text or None."""
    return fetch_value(conn, 'SELECT current_setting(%s, true)', (name,))


def extension_info(conn, name):
    """(version, schema) of an installed extension in the current database, or (None, None)."""
    row = fetch_one(conn, 'SELECT e.extversion, n.nspname FROM pg_extension e '
                          'JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = %s',
                    (name,))
    return (row[0], row[1]) if row else (None, None)


def timescaledb_info(conn):
    """What the TimescaleDB extension of the current database offers.

    Returns a dict: ``installed``, ``version``, ``schema``, ``license``
    (``apache`` or ``timescale``), and ``tsl`` (True when compression, policies and
    continuous aggregates are available).
    """
    version, schema = extension_info(conn, 'timescaledb')
    lic = server_setting(conn, 'timescaledb.license') if version else None
    return dict(installed=version is not None, version=version, schema=schema,
                license=lic, tsl=(lic == 'timescale'))


def require_timescaledb(conn, database):
    """timescaledb_info(), or DbfleetPostgresError when the extension is not installed."""
    info = timescaledb_info(conn)
    if not info['installed']:
        raise DbfleetPostgresError('extension timescaledb is not installed in database %s' % database)
    return info


def current_database(conn):
    return fetch_value(conn, 'SELECT current_database()')


# --- pg_cron ---------------------------------------------------------------------
# pg_cron keeps its jobs in the database named by ``cron.database_name``; a job may
# run in another database (cron.schedule_in_database). Modules that schedule jobs
# connect to the cron database with the same login options.

def cron_database_name(conn):
    """The database pg_cron lives in (``cron.database_name``), or None when pg_cron is
    not loaded."""
    return server_setting(conn, 'cron.database_name')


class CronJobs:
    """Read and plan pg_cron jobs by name; statements go through an Executor."""

    def __init__(self, cron_conn, executor):
        self.conn = cron_conn
        self.executor = executor

    def available(self):
        return extension_info(self.conn, 'pg_cron')[0] is not None

    def get(self, jobname):
        row = fetch_one(self.conn, 'SELECT jobid, schedule, command, database, username, active '
                                   'FROM cron.job WHERE jobname = %s ORDER BY jobid LIMIT 1',
                        (jobname,))
        if not row:
            return None
        return dict(jobid=row[0], schedule=row[1], command=row[2], database=row[3],
                    username=row[4], active=row[5], jobname=jobname)

    def ensure(self, jobname, schedule, command, database):
        """Make job ``jobname`` run ``command`` in ``database`` on ``schedule``.
        Returns (before, after) dicts (None when absent)."""
        before = self.get(jobname)
        after = dict(jobname=jobname, schedule=schedule, command=command, database=database,
                     active=True, jobid=before['jobid'] if before else None)
        if before is None:
            rows = self.executor.execute(
                'SELECT cron.schedule_in_database(%s, %s, %s, %s)',
                (jobname, schedule, command, database), conn=self.conn)
            if rows:
                after['jobid'] = rows[0][0]
        elif (before['schedule'], before['command'], before['database'], before['active']) != \
                (schedule, command, database, True):
            self.executor.execute(
                'SELECT cron.alter_job(%s, schedule := %s, command := %s, database := %s, '
                'active := true)', (before['jobid'], schedule, command, database), conn=self.conn)
        if before is not None:
            after['username'] = before['username']
        return before, after

    def remove(self, jobname):
        before = self.get(jobname)
        if before is not None:
            self.executor.execute('SELECT cron.unschedule(%s::bigint)', (before['jobid'],),
                                  conn=self.conn)
        return before, None
