#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: supabase_dump
short_description: Dump a hosted Supabase database's application schemas for a cutover
version_added: 0.1.0
description:
  - Dumps the application's schemas (V(public) by default; the platform's schemas are
    left out) of a Supabase (or any PostgreSQL) database with C(pg_dump) in directory
    format with parallel jobs, plus C(auth.users) (table and rows, which the application's
    foreign keys reference) as a second dump.
  - Records in C(dbfleet_manifest.json) what the restore needs from the platform, namely
    the roles the application uses (attributes and memberships, never passwords), the
    extensions and their schemas, the server's major version, the tables and their sizes.
  - Refuses Supabase's transaction pooler (port 6543, or O(pooler_mode=transaction)),
    since a dump needs one stable session.
  - Uses a C(pg_dump) whose major version is at least the server's.
  - A complete dump of the same source in O(dest) is kept (no change) unless O(force).
author:
  - darkreach engineering (@darkreach)
extends_documentation_fragment:
  - darkreach.dbfleet.postgres
attributes:
  check_mode:
    support: full
    description: Connects, checks and plans; dumps nothing.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
options:
  dest:
    description: Directory to create the dump in (created; must be empty or a previous dump).
    type: path
    required: true
  jobs:
    description: Parallel C(pg_dump) jobs.
    type: int
    default: 2
  schemas:
    description: The application's schemas to dump.
    type: list
    elements: str
    default: [public]
  exclude_schemas:
    description:
      - Schemas never dumped even if listed in O(schemas) (the platform's).
      - Defaults to Supabase's platform schemas.
    type: list
    elements: str
  include_auth_users:
    description: Also dump C(auth.users) (definition and rows) when it exists.
    type: bool
    default: true
  pooler_mode:
    description:
      - What the endpoint is, when known. V(transaction) is refused like port 6543.
    type: str
    choices: [direct, session, transaction]
    default: direct
  pg_bin_dir:
    description: Directory holding C(pg_dump); by default the newest suitable one is found.
    type: path
  force:
    description: Dump again even when O(dest) holds a complete dump of this source.
    type: bool
    default: false
  free_space_factor:
    description:
      - Refuse to dump unless the file system of O(dest) has at least this many times the
        size of the dumped tables on the source free (a directory dump is compressed, so
        V(1.0) leaves a wide margin).
    type: float
    default: 1.0
  data:
    description:
      - Dump the application's rows. V(false) dumps its schema only (sequence values
        included neither), for the logical-replication mode where
        M(darkreach.dbfleet.supabase_logical_sync) carries the rows; C(auth.users) is
        dumped whole either way.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Dump the application from Supabase (direct endpoint)
  darkreach.dbfleet.supabase_dump:
    login_host: db.abcdefgh.supabase.co
    login_port: 5432
    login_user: postgres
    login_password: "{{ vault_supabase_password }}"
    login_db: postgres
    ssl_mode: require
    dest: /var/backups/dbfleet/cutover
    jobs: 4
'''

RETURN = r'''
dest:
  description: The dump directory.
  returned: always
  type: str
schemas:
  description: The schemas dumped.
  returned: always
  type: list
  elements: str
tables:
  description: The tables dumped with their size on the source (bytes) and estimated rows.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "public.primes", "bytes": 81920, "rows": 1200}]
source_bytes:
  description: Total size of the dumped tables on the source.
  returned: always
  type: int
dump_bytes:
  description: Size of the dump on disk.
  returned: when a dump exists
  type: int
duration:
  description: Seconds the dump took (0 when nothing was done).
  returned: always
  type: float
pg_dump:
  description: Path and major version of the pg_dump used.
  returned: always
  type: dict
server_major:
  description: The source server's major version.
  returned: always
  type: int
roles:
  description: The roles the manifest records (names only).
  returned: always
  type: list
  elements: str
'''

import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_cutover import (
    PLATFORM_SCHEMAS,
    client_env,
    dir_size,
    find_client,
    pooler_refusal,
    read_manifest,
    run_client,
    server_major,
    write_manifest,
)
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    DbfleetPostgresError,
    connect,
    fetch_all,
    fetch_value,
    postgres_common_argument_spec,
    validate_identifier,
)

TABLES = """
    SELECT format('%%s.%%s', n.nspname, c.relname), pg_total_relation_size(c.oid),
           GREATEST(c.reltuples, 0)::bigint
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     ORDER BY 1"""

# Roles the dumped objects name (owners, grantees, policy roles) and the API roles,
# with their attributes and memberships; pg_roles, so no superuser is needed.
ROLES = """
    SELECT r.rolname, r.rolcanlogin, r.rolinherit, r.rolbypassrls, r.rolcreaterole,
           r.rolcreatedb,
           ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                  WHERE m.member = r.oid ORDER BY 1)
      FROM pg_roles r
     WHERE r.rolname !~ '^pg_' ORDER BY 1"""

EXTENSIONS = """
    SELECT e.extname, n.nspname, e.extversion
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1"""


def source_identity(params, conn):
    """What makes two dumps 'of the same source': the endpoint and the database."""
    return '%s:%s/%s' % (params['login_host'] or params['login_unix_socket'], params['login_port'],
                         fetch_value(conn, 'SELECT current_database()'))


def main():
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        dest=dict(type='path', required=True),
        jobs=dict(type='int', default=2),
        schemas=dict(type='list', elements='str', default=['public']),
        exclude_schemas=dict(type='list', elements='str'),
        include_auth_users=dict(type='bool', default=True),
        pooler_mode=dict(type='str', default='direct', choices=['direct', 'session', 'transaction']),
        pg_bin_dir=dict(type='path'),
        force=dict(type='bool', default=False),
        free_space_factor=dict(type='float', default=1.0),
        data=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    refusal = pooler_refusal(p['login_host'], p['login_port'], p['pooler_mode'])
    if refusal:
        module.fail_json(msg=refusal)
    if p['jobs'] < 1:
        module.fail_json(msg='jobs must be at least 1, got %d' % p['jobs'])
    excluded = set(PLATFORM_SCHEMAS if p['exclude_schemas'] is None else p['exclude_schemas'])
    try:
        schemas = [validate_identifier(s, 'schema') for s in p['schemas'] if s not in excluded]
    except DbfleetPostgresError as exc:
        module.fail_json(msg=str(exc))
    if not schemas:
        module.fail_json(msg='no schema left to dump: %s are all platform schemas' % ', '.join(p['schemas']))

    conn = connect(module, what='source database')
    major = server_major(conn)
    identity = source_identity(p, conn)
    tables = [dict(name=n, bytes=int(b), rows=int(r))
              for n, b, r in fetch_all(conn, TABLES, {'schemas': schemas})]
    missing = [s for s in schemas if not fetch_value(
        conn, 'SELECT count(*) FROM pg_namespace WHERE nspname = %s', (s,))]
    if missing:
        module.fail_json(msg='schema(s) %s do not exist on the source' % ', '.join(missing))
    roles = [dict(name=r[0], login=r[1], inherit=r[2], bypassrls=r[3], createrole=r[4],
                  createdb=r[5], member_of=list(r[6])) for r in fetch_all(conn, ROLES)]
    extensions = [dict(name=e[0], schema=e[1], version=e[2]) for e in fetch_all(conn, EXTENSIONS)]
    has_auth_users = bool(fetch_value(conn, "SELECT to_regclass('auth.users') IS NOT NULL"))
    conn.close()

    pg_dump, client = find_client(module, 'pg_dump', major, p['pg_bin_dir'])
    result = dict(changed=False, dest=p['dest'], schemas=schemas, tables=tables,
                  source_bytes=sum(t['bytes'] for t in tables), duration=0.0,
                  pg_dump=dict(path=pg_dump, major=client), server_major=major,
                  roles=[r['name'] for r in roles])
    if not pg_dump:
        module.fail_json(msg='no pg_dump of major %d or newer found (newest found: %s); install '
                         'postgresql-client-%d or set pg_bin_dir' % (major, client or 'none', major),
                         **result)

    previous = read_manifest(p['dest'])
    if previous and previous.get('complete') and previous.get('source') == identity and not p['force'] \
            and previous.get('data', True) == p['data']:
        result['dump_bytes'] = dir_size(p['dest'])
        module.exit_json(**result)
    if os.path.isdir(p['dest']) and os.listdir(p['dest']) and not previous:
        module.fail_json(msg='%s is not empty and holds no dbfleet dump; choose an empty '
                         'directory' % p['dest'], **result)
    parent = p['dest']
    while not os.path.isdir(parent):
        parent = os.path.dirname(parent) or '/'
    stat = os.statvfs(parent)
    free = stat.f_bavail * stat.f_frsize
    needed = int(result['source_bytes'] * p['free_space_factor']) if p['data'] else 0
    if free < needed:
        module.fail_json(msg='too little disk for the dump: %s has %d MB free, %d MB needed '
                         '(%.1f x the %d MB of tables on the source)' % (
                             parent, free // 2 ** 20, needed // 2 ** 20, p['free_space_factor'],
                             result['source_bytes'] // 2 ** 20), **result)
    result['changed'] = True
    if module.check_mode:
        module.exit_json(**result)

    if os.path.isdir(p['dest']):
        shutil.rmtree(p['dest'])
    os.makedirs(p['dest'], mode=0o700)
    env = client_env(p)
    started = time.time()
    argv = [pg_dump, '--format=directory', '--jobs=%d' % p['jobs'], '--no-password',
            '--file=%s' % os.path.join(p['dest'], 'app')]
    argv += ['--schema=%s' % s for s in schemas]
    if not p['data']:
        argv.append('--schema-only')
    rc, out, err = run_client(module, argv, env, p['login_password'])
    if rc != 0:
        module.fail_json(msg='pg_dump failed: %s' % err.strip(), **result)
    if p['include_auth_users'] and has_auth_users:
        argv = [pg_dump, '--format=directory', '--no-password', '--table=auth.users',
                '--file=%s' % os.path.join(p['dest'], 'auth_users')]
        rc, out, err = run_client(module, argv, env, p['login_password'])
        if rc != 0:
            module.fail_json(msg='pg_dump of auth.users failed: %s' % err.strip(), **result)
    result['duration'] = round(time.time() - started, 3)
    write_manifest(p['dest'], dict(
        complete=True, source=identity, server_major=major, schemas=schemas, tables=tables,
        roles=roles, extensions=extensions, auth_users=bool(p['include_auth_users'] and has_auth_users),
        dumped_at=started, duration=result['duration'], pg_dump_major=client, data=p['data']))
    result['dump_bytes'] = dir_size(p['dest'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
