# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the cutover modules (supabase_dump, supabase_restore) share: the Supabase
platform's names, the endpoint rules, the dump's manifest, and running the
PostgreSQL client programs with the password in the environment (never on a
command line)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import re

from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import connection_params

MANIFEST = 'dbfleet_manifest.json'

# Schemas the platform owns; the application's objects live elsewhere (public).
PLATFORM_SCHEMAS = [
    'auth', 'storage', 'realtime', '_realtime', 'extensions', 'graphql', 'graphql_public',
    'pgbouncer', 'vault', 'pgsodium', 'pgsodium_masks', 'net', 'supabase_functions', 'cron',
    'pgmq', '_analytics', 'supabase_migrations', 'information_schema', 'pg_catalog', 'pg_toast',
]

# The API roles the application's grants and policies name; created with their
# attributes on the target.
API_ROLES = ['anon', 'authenticated', 'service_role', 'authenticator']

# Roles the platform reserves; referenced by grants in a dump, they become NOLOGIN
# placeholders on the target (so the grants restore), never real users.
RESERVED_ROLE_RE = re.compile(
    r'^(supabase_.*|cli_login_.*|pgsodium_.*|dashboard_user|pgbouncer|authenticator_.*)$')

TRANSACTION_POOLER_PORT = 6543


def pooler_refusal(host, port, pooler_mode=None):
    """A message when (host, port) is Supabase's transaction pooler, else None (pure)."""
    host = host or ''
    transaction = (port == TRANSACTION_POOLER_PORT or pooler_mode == 'transaction')
    if not transaction:
        return None
    hint = ('the direct endpoint db.<project-ref>.supabase.co:5432 or the session pooler '
            '(%s:5432)' % host if 'pooler.supabase.com' in host else
            'the direct endpoint (port 5432) or the session pooler')
    return ('%s:%s is the transaction pooler: it hands every transaction to another server '
            'session, so a dump cannot hold one snapshot, SET or advisory locks. Use %s '
            'instead.' % (host, port, hint))


def server_major(conn):
    with conn.cursor() as cur:
        cur.execute('SHOW server_version_num')
        return int(cur.fetchone()[0]) // 10000


def find_client(module, program, min_major, bin_dir=None):
    """(path, major) of ``program`` (pg_dump, pg_restore, psql) of at least ``min_major``.

    Looks in ``bin_dir`` when given, else in Debian's /usr/lib/postgresql/*/bin (newest
    first), then on PATH. Returns (None, newest major found) when none is new enough.
    """
    candidates = []
    if bin_dir:
        candidates.append(os.path.join(bin_dir, program))
    else:
        for path in glob.glob('/usr/lib/postgresql/*/bin/%s' % program):
            candidates.append(path)
        for directory in os.environ.get('PATH', '').split(os.pathsep):
            candidates.append(os.path.join(directory, program))
    best = (None, 0)
    for path in candidates:
        if not os.access(path, os.X_OK):
            continue
        major = client_major(module, path)
        if major >= min_major and (best[0] is None or major > best[1]):
            best = (path, major)
        elif best[0] is None and major > best[1]:
            best = (None, major)
    return best


def client_major(module, path):
    rc, out, dummy = module.run_command([path, '--version'])
    if rc != 0:
        return 0
    match = re.search(r'(\d+)(?:\.\d+)?', out.split(')')[-1]) or re.search(r'(\d+)', out)
    return int(match.group(1)) if match else 0


# libpq's environment variable for each psycopg2.connect() keyword.
_PG_ENV = {'host': 'PGHOST', 'port': 'PGPORT', 'user': 'PGUSER', 'password': 'PGPASSWORD',
           'dbname': 'PGDATABASE', 'sslmode': 'PGSSLMODE', 'sslrootcert': 'PGSSLROOTCERT',
           'connect_timeout': 'PGCONNECT_TIMEOUT', 'application_name': 'PGAPPNAME'}


def client_env(params, database=None):
    """Environment additions for a libpq client program: the same connection as
    ``connection_params()`` in PG* variables, the password in PGPASSWORD, so that
    nothing secret is on a command line."""
    env = dict((_PG_ENV[key], str(value))
               for key, value in connection_params(params, database=database).items())
    env['PGAPPNAME'] = 'dbfleet-cutover'
    return env


def run_client(module, argv, env=None, secret=None):
    """Run a client program with ``env`` added to the environment;
    (rc, stdout, stderr) with ``secret`` masked in the output."""
    rc, out, err = module.run_command(argv, environ_update=env or {})
    if secret:
        out, err = out.replace(secret, '********'), err.replace(secret, '********')
    return rc, out, err


def read_manifest(path):
    try:
        with open(os.path.join(path, MANIFEST)) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def write_manifest(path, manifest):
    tmp = os.path.join(path, MANIFEST + '.tmp')
    with open(tmp, 'w') as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
    os.rename(tmp, os.path.join(path, MANIFEST))


def dir_size(path):
    total = 0
    for root, dummy, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total
