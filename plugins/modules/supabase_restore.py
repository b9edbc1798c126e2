#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: supabase_restore
short_description: Restore a supabase_dump into a self-managed PostgreSQL
version_added: 0.1.0
description:
  - Prepares the target with what the application's objects need from the Supabase
    platform, then restores a dump made by M(darkreach.dbfleet.supabase_dump) with
    parallel jobs.
  - "Preparation: the roles the source has (the API roles C(anon), C(authenticated),
    C(service_role), C(authenticator) with their attributes and memberships; roles the
    platform reserves, such as C(supabase_admin), as C(NOLOGIN) placeholders so that grants
    naming them restore; never a password, never C(SUPERUSER) or C(REPLICATION)), an
    C(auth) schema with C(auth.uid()), C(auth.role()), C(auth.jwt()) reading the
    PostgREST request settings, the C(extensions) schema with the extensions the source
    has (where the target offers them), and a database search_path that finds them."
  - "Platform-owned entries of the dump are handled on purpose and listed in
    RV(skipped_entries): event triggers, the C(supabase_realtime) publication and its tables,
    default privileges of reserved roles, the C(public) schema's own entry."
  - Every restored object is owned by the restoring role (C(--no-owner)), as the
    application's objects are owned by C(postgres) on Supabase.
  - Refuses a target whose application schemas already hold tables unless O(replace),
    and a target whose major version is older than the source's.
  - Records each restore in C(dbfleet_cutover.restores); restoring the same dump again
    changes nothing.
author:
  - darkreach engineering (@darkreach)
extends_documentation_fragment:
  - darkreach.dbfleet.postgres
attributes:
  check_mode:
    support: full
    description: Checks the target and returns the preparation statements; changes nothing.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
options:
  src:
    description: Directory of a dump made by M(darkreach.dbfleet.supabase_dump).
    type: path
    required: true
  jobs:
    description: Parallel C(pg_restore) jobs for data and indexes.
    type: int
    default: 2
  replace:
    description:
      - Drop the application's schemas on the target (and C(auth.users)) before restoring
        when they hold tables. Destroys what the target has there; extensions installed
        in V(public) are created again, empty; the other schemas are created by the dump.
    type: bool
    default: false
  search_path:
    description: The database's search_path after the restore.
    type: list
    elements: str
    default: ['"$user"', public, extensions]
  pg_bin_dir:
    description: Directory holding C(pg_restore); by default the newest suitable one is found.
    type: path
'''

EXAMPLES = r'''
- name: Restore the Supabase dump on the new primary
  darkreach.dbfleet.supabase_restore:
    login_host: 127.0.0.1
    login_user: postgres
    login_password: "{{ vault_postgres_password }}"
    login_db: darkreach
    src: /var/backups/dbfleet/cutover
    jobs: 4
'''

RETURN = r'''
restored:
  description: Whether this run restored the dump (false when it was restored before).
  returned: always
  type: bool
prepared:
  description: The preparation statements that ran (or would run in check mode).
  returned: always
  type: list
  elements: str
placeholders:
  description: Reserved platform roles created as NOLOGIN placeholders.
  returned: always
  type: list
  elements: str
extensions_missing:
  description: Source extensions the target does not offer (objects needing them fail).
  returned: always
  type: list
  elements: str
skipped_entries:
  description:
    - Dump entries left out on purpose, each with the reason.
    - Not called C(skipped), since Ansible reads a result key of that name as "the task was skipped".
  returned: always
  type: list
  elements: dict
  sample: [{"entry": "PUBLICATION supabase_realtime", "reason": "the Realtime publication belongs to the platform"}]
duration:
  description: Seconds the restore took.
  returned: always
  type: float
tables:
  description: Number of tables restored.
  returned: always
  type: int
'''

import os
import re
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_cutover import (
    API_ROLES,
    RESERVED_ROLE_RE,
    client_env,
    find_client,
    read_manifest,
    run_client,
    server_major,
)
from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    Executor,
    connect,
    current_database,
    fetch_all,
    fetch_value,
    postgres_common_argument_spec,
    sql,
    to_text_error,
)

# Extensions that only the Supabase platform provides; never expected on the target.
PLATFORM_EXTENSIONS = {'pg_graphql', 'supabase_vault', 'pgsodium', 'pg_net', 'pgjwt',
                       'plpgsql', 'pg_stat_monitor', 'wrappers', 'pgmq'}

AUTH_FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))::uuid
$$""",
    """CREATE OR REPLACE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim.role', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'))::text
$$""",
    """CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                  nullif(current_setting('request.jwt.claims', true), ''))::jsonb
$$""",
]

# (regex on the TOC entry's description and names, reason): entries left out on purpose.
SKIP_RULES = [
    (re.compile(r'^EVENT TRIGGER '), 'event triggers belong to the platform (superuser-owned)'),
    (re.compile(r'^PUBLICATION (TABLE )?.*supabase_realtime'),
     'the Realtime publication belongs to the platform; Phase 6 replaces it with LISTEN/NOTIFY'),
    (re.compile(r'^DEFAULT ACL .*\b(supabase_\w+|cli_login_\w+|pgsodium_\w+)$'),
     'default privileges of a reserved platform role'),
    (re.compile(r'^SCHEMA - public \w+$'), 'the target has its own public schema'),
    (re.compile(r'^COMMENT - SCHEMA public \w+$'), 'the target has its own public schema'),
]

MARKER_DDL = [
    'CREATE SCHEMA IF NOT EXISTS dbfleet_cutover',
    'CREATE TABLE IF NOT EXISTS dbfleet_cutover.restores (source text NOT NULL, dumped_at '
    'double precision NOT NULL, restored_at timestamptz NOT NULL DEFAULT now(), '
    'duration double precision, PRIMARY KEY (source, dumped_at))',
]


def toc_entries(listing):
    """(line, 'DESC SCHEMA NAME OWNER' text) for each entry of `pg_restore -l` (pure)."""
    entries = []
    for line in listing.splitlines():
        if not line or line.startswith(';'):
            continue
        match = re.match(r'^\d+;\s+\d+\s+\d+\s+(.*)$', line)
        if match:
            entries.append((line, match.group(1).strip()))
    return entries


def filter_toc(listing):
    """(kept lines, skipped [{entry, reason}]) by SKIP_RULES (pure)."""
    kept, skipped = [], []
    for line, text in toc_entries(listing):
        for rule, reason in SKIP_RULES:
            if rule.search(text):
                skipped.append(dict(entry=text, reason=reason))
                break
        else:
            kept.append(line)
    return kept, skipped


def role_statements(manifest_roles, existing):
    """CREATE ROLE / GRANT statements for the source's roles missing on the target (pure).

    Returns (statements, placeholders, created)."""
    statements, placeholders, created = [], [], []
    names = set(r['name'] for r in manifest_roles)
    for role in manifest_roles:
        name = role['name']
        if name in existing:
            continue
        if RESERVED_ROLE_RE.match(name):
            statements.append(sql.SQL('CREATE ROLE {} NOLOGIN').format(sql.Identifier(name)))
            placeholders.append(name)
            continue
        attrs = ['LOGIN' if role.get('login') else 'NOLOGIN',
                 'INHERIT' if role.get('inherit', True) else 'NOINHERIT']
        if role.get('bypassrls'):
            attrs.append('BYPASSRLS')
        statements.append(sql.SQL('CREATE ROLE {} ' + ' '.join(attrs)).format(sql.Identifier(name)))
        created.append(name)
    for role in manifest_roles:
        if role['name'] in existing or RESERVED_ROLE_RE.match(role['name']):
            continue
        for group in role.get('member_of', []):
            if group in names and not group.startswith('pg_') and not RESERVED_ROLE_RE.match(group):
                statements.append(sql.SQL('GRANT {} TO {}').format(
                    sql.Identifier(group), sql.Identifier(role['name'])))
    return statements, placeholders, created


def main():
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        src=dict(type='path', required=True),
        jobs=dict(type='int', default=2),
        replace=dict(type='bool', default=False),
        search_path=dict(type='list', elements='str', default=['"$user"', 'public', 'extensions']),
        pg_bin_dir=dict(type='path'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    manifest = read_manifest(p['src'])
    if not manifest or not manifest.get('complete'):
        module.fail_json(msg='%s holds no complete supabase_dump (dbfleet_manifest.json missing '
                         'or incomplete)' % p['src'])
    result = dict(changed=False, restored=False, prepared=[], placeholders=[], skipped_entries=[],
                  extensions_missing=[], duration=0.0, tables=len(manifest['tables']))

    conn = connect(module, what='target database')
    conn.autocommit = True
    major = server_major(conn)
    if major < manifest['server_major']:
        module.fail_json(msg='the target runs PostgreSQL %d, older than the source (%d): '
                         'a dump does not restore into an older major' % (major, manifest['server_major']),
                         **result)
    pg_restore, client = find_client(module, 'pg_restore', max(major, manifest['pg_dump_major']), p['pg_bin_dir'])
    if not pg_restore:
        module.fail_json(msg='no pg_restore of major %d or newer found' % max(major, manifest['pg_dump_major']),
                         **result)
    if fetch_value(conn, "SELECT to_regclass('dbfleet_cutover.restores') IS NOT NULL") and fetch_value(
            conn, 'SELECT count(*) FROM dbfleet_cutover.restores WHERE source = %s AND dumped_at = %s',
            (manifest['source'], manifest['dumped_at'])):
        module.exit_json(**result)  # this dump is restored already

    schemas = manifest['schemas']
    occupied = [r[0] for r in fetch_all(conn, """
        SELECT format('%%s.%%s', n.nspname, c.relname) FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm') AND (n.nspname = ANY(%(schemas)s)
            OR (n.nspname = 'auth' AND c.relname = 'users'))
           AND NOT EXISTS (SELECT 1 FROM pg_depend d  -- an extension's own views do not count
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                              AND d.deptype = 'e')
         ORDER BY 1""", {'schemas': schemas})]
    if occupied and not p['replace']:
        more = ' and more' if len(occupied) > 5 else ''
        module.fail_json(msg='the target is not empty: %s%s already exist; restore into an empty '
                         'database or set replace=true' % (', '.join(occupied[:5]), more), **result)

    ex = Executor(conn, check_mode=module.check_mode)
    if occupied:
        # The schemas go, with every object in them; extensions installed there (for
        # example timescaledb or pg_stat_statements in public) are created again.
        kept = fetch_all(conn, """
            SELECT e.extname, n.nspname FROM pg_extension e
              JOIN pg_namespace n ON n.oid = e.extnamespace
             WHERE n.nspname = ANY(%(schemas)s) ORDER BY e.oid""", {'schemas': schemas})
        # public is made again here (the dump's own entry for it is skipped); the dump
        # creates every other schema it holds (phase 1's dbfleet_dashboard, for example).
        for schema in schemas:
            ex.execute(sql.SQL('DROP SCHEMA IF EXISTS {} CASCADE').format(sql.Identifier(schema)))
            if schema == 'public':
                ex.execute(sql.SQL('CREATE SCHEMA {}').format(sql.Identifier(schema)))
        ex.execute('DROP TABLE IF EXISTS auth.users CASCADE')
        if kept and not module.check_mode:
            # a new session: TimescaleDB refuses to load again where it was just dropped
            conn.close()
            conn = connect(module, what='target database', autocommit=True)
            ex.conn = conn
        for name, schema in [k for k in kept if k[1] == 'public']:
            ex.execute(sql.SQL('CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}').format(
                sql.Identifier(name), sql.Identifier(schema)))

    existing = set(r[0] for r in fetch_all(conn, 'SELECT rolname FROM pg_roles'))
    statements, placeholders, created = role_statements(manifest['roles'], existing)
    for stmt in statements:
        ex.execute(stmt)
    result['placeholders'] = placeholders

    available = set(r[0] for r in fetch_all(conn, 'SELECT name FROM pg_available_extensions'))
    installed = set(r[0] for r in fetch_all(conn, 'SELECT extname FROM pg_extension'))
    ex.execute('CREATE SCHEMA IF NOT EXISTS extensions')
    for ext in manifest['extensions']:
        if ext['name'] in installed or ext['name'] in PLATFORM_EXTENSIONS:
            continue
        if ext['name'] not in available:
            result['extensions_missing'].append(ext['name'])
            continue
        schema = ext['schema'] if ext['schema'] in ('public', 'extensions') else 'extensions'
        ex.execute(sql.SQL('CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}').format(
            sql.Identifier(ext['name']), sql.Identifier(schema)))
    ex.execute('CREATE SCHEMA IF NOT EXISTS auth')
    for stmt in AUTH_FUNCTIONS:
        ex.execute(stmt)
    for role in [r for r in API_ROLES if r in existing or r in created]:
        ex.execute(sql.SQL('GRANT USAGE ON SCHEMA auth, extensions TO {}').format(sql.Identifier(role)))
    db = current_database(conn)
    path = [sql.SQL('"$user"') if s == '"$user"' else sql.Identifier(s) for s in p['search_path']]
    ex.execute(sql.SQL('ALTER DATABASE {} SET search_path TO {}').format(
        sql.Identifier(db), sql.SQL(', ').join(path)))
    for stmt in MARKER_DDL:
        ex.execute(stmt)
    result['prepared'] = ex.queries
    result['changed'] = True

    listing_rc, listing, err = run_client(module, [pg_restore, '--list', os.path.join(p['src'], 'app')])
    if listing_rc != 0:
        module.fail_json(msg='pg_restore --list failed: %s' % err.strip(), **result)
    kept, skipped = filter_toc(listing)
    result['skipped_entries'] = skipped
    if module.check_mode:
        module.exit_json(**result)

    env = client_env(p)
    started = time.time()
    with tempfile.NamedTemporaryFile('w', suffix='.toc', delete=False) as handle:
        handle.write('\n'.join(kept) + '\n')
        toc = handle.name
    auth = os.path.join(p['src'], 'auth_users') if manifest.get('auth_users') else None
    base = [pg_restore, '--no-owner', '--no-password', '--exit-on-error', '--dbname', db]
    steps = []
    for section in ('pre-data', 'data', 'post-data'):
        jobs = ['--jobs=%d' % p['jobs']] if section != 'pre-data' else []
        if auth:
            steps.append(base + ['--section=%s' % section, auth])
        steps.append(base + jobs + ['--section=%s' % section, '--use-list=%s' % toc,
                                    os.path.join(p['src'], 'app')])
    try:
        for argv in steps:
            rc, out, err = run_client(module, argv, env, p['login_password'])
            if rc != 0:
                module.fail_json(msg='pg_restore failed (%s): %s' % (' '.join(argv[5:]), err.strip()),
                                 **result)
    finally:
        os.unlink(toc)
    try:
        with conn.cursor() as cur:
            cur.execute('ANALYZE')
            cur.execute('INSERT INTO dbfleet_cutover.restores (source, dumped_at, duration) '
                        'VALUES (%s, %s, %s)', (manifest['source'], manifest['dumped_at'],
                                                time.time() - started))
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='recording the restore failed: %s' % to_text_error(exc), **result)
    conn.close()
    result['restored'] = True
    result['duration'] = round(time.time() - started, 3)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
