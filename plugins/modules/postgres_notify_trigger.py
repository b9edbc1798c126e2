#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: postgres_notify_trigger
short_description: A trigger that publishes a table's new rows with pg_notify on a channel
version_added: 0.1.0
description:
  - Creates (or removes) a PL/pgSQL trigger function and an C(AFTER ... FOR EACH ROW) trigger
    that sends each new row of O(table) as a JSON object on the notification channel
    O(channel), for clients that C(LISTEN) to it (darkreach's coordinator pushes new primes
    to the dashboard's WebSocket this way instead of Supabase Realtime).
  - 'The payload is C({"table": ..., "op": "INSERT", <column>: <value>, ...}) with the
    columns O(columns) in that order. PostgreSQL refuses a payload of 8000 bytes or more and
    would then roll back the row''s transaction; the function sends the first column only,
    with C("truncated": true), when the full payload is too long, so a long value never
    costs the row.'
  - Notifications are sent when the inserting transaction commits, once per row, and only to
    sessions listening at that moment (PostgreSQL does not keep them for later).
  - Idempotent; compares the function's body and the trigger's events with what it would
    create, and changes only what differs, in one transaction.
author:
  - darkreach engineering (@darkreach)
extends_documentation_fragment:
  - darkreach.dbfleet.postgres
attributes:
  check_mode:
    support: full
    description: Reports what would change and the statements in RV(queries); runs none.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
options:
  table:
    description: The table, C(schema.name) or C(name) in C(public).
    type: str
    required: true
  channel:
    description: The notification channel (a lowercase identifier, the name clients LISTEN to).
    type: str
    required: true
  columns:
    description:
      - The columns sent, in order. Each must exist in O(table). The first is also the one
        sent alone when the payload is too long (give the primary key first).
    type: list
    elements: str
    default: [id]
  events:
    description: The row events that notify.
    type: list
    elements: str
    choices: [INSERT, UPDATE, DELETE]
    default: [INSERT]
  name:
    description:
      - Name of the trigger and of its function (in the table's schema).
        Default C(<table>_notify_<channel>), cut to 63 bytes.
    type: str
  state:
    description: present creates or updates the trigger; absent drops trigger and function.
    type: str
    choices: [present, absent]
    default: present
'''

EXAMPLES = r'''
- name: Publish each new prime on channel darkreach_new_prime
  darkreach.dbfleet.postgres_notify_trigger:
    login_db: darkreach
    login_unix_socket: /var/run/postgresql
    table: public.primes
    channel: darkreach_new_prime
    columns: [id, form, expression, digits, proof_method, found_at]
  become: true
  become_user: postgres
'''

RETURN = r'''
function:
  description: The trigger function, schema-qualified.
  returned: always
  type: str
  sample: public.primes_notify_darkreach_new_prime
trigger:
  description: The trigger's name.
  returned: always
  type: str
  sample: primes_notify_darkreach_new_prime
channel:
  description: The channel.
  returned: always
  type: str
  sample: darkreach_new_prime
columns:
  description: The payload's columns, in order.
  returned: always
  type: list
  elements: str
  sample: [id, form, digits]
queries:
  description: The statements run (or, in check mode, that would run).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    DbfleetPostgresError, Executor, connect, fetch_all, fetch_one, ident, postgres_common_argument_spec,
    qualified, split_qualified_name, to_text_error, validate_identifier, MAX_IDENTIFIER_LENGTH,
    psycopg2, sql,
)

# pg_trigger.tgtype bits (PostgreSQL's trigger.h)
TRIGGER_TYPE_ROW = 1
TRIGGER_TYPE_BEFORE = 2
EVENT_BITS = {'INSERT': 4, 'DELETE': 8, 'UPDATE': 16}
EVENT_ORDER = ('INSERT', 'DELETE', 'UPDATE')
MAX_PAYLOAD = 7999  # PostgreSQL refuses payloads of 8000 bytes and more


def function_body(columns, channel):
    """The trigger function's PL/pgSQL body (pure; compared with pg_proc.prosrc)."""
    record = "CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END"
    pairs = ', '.join("'%s', r.%s" % (c, '"%s"' % c) for c in columns)
    first = columns[0]
    return (
        "\nDECLARE\n"
        "  r record := %s;\n"
        "  payload text;\n"
        "BEGIN\n"
        "  payload := json_build_object('table', TG_TABLE_NAME, 'op', TG_OP, %s)::text;\n"
        "  IF octet_length(payload) > %d THEN\n"
        "    payload := json_build_object('table', TG_TABLE_NAME, 'op', TG_OP, '%s', r.\"%s\", "
        "'truncated', true)::text;\n"
        "  END IF;\n"
        "  PERFORM pg_notify('%s', payload);\n"
        "  RETURN NULL;\n"
        "END\n"
    ) % (record, pairs, MAX_PAYLOAD, first, first, channel)


def trigger_type(events):
    """pg_trigger.tgtype of an AFTER ... FOR EACH ROW trigger on ``events`` (pure)."""
    bits = TRIGGER_TYPE_ROW
    for event in events:
        bits |= EVENT_BITS[event]
    return bits


def default_name(table, channel):
    return ('%s_notify_%s' % (table, channel))[:MAX_IDENTIFIER_LENGTH]


def sql_text(template, *parts):
    """``template`` with psycopg2 sql parts in place of {} (a Composed)."""
    return sql.SQL(template).format(*parts)


def dollar_quote(body):
    tag = '$dbfleet$'
    if tag in body:  # cannot happen with validated identifiers; refuse rather than mis-quote
        raise DbfleetPostgresError('function body contains %s' % tag)
    return sql.SQL(tag + body + tag)


def main():
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        table=dict(type='str', required=True),
        channel=dict(type='str', required=True),
        columns=dict(type='list', elements='str', default=['id']),
        events=dict(type='list', elements='str', choices=list(EVENT_ORDER), default=['INSERT']),
        name=dict(type='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    try:
        schema, table = split_qualified_name(p['table'], what='table')
        channel = validate_identifier(p['channel'], 'channel')
        if not channel.islower():
            raise DbfleetPostgresError('channel "%s" must be lowercase (LISTEN folds it)' % channel)
        name = validate_identifier(p['name'] or default_name(table, channel), 'name')
        columns = [validate_identifier(c, 'column') for c in p['columns']]
        if not columns:
            raise DbfleetPostgresError('columns must name at least one column')
        if len(set(columns)) != len(columns):
            raise DbfleetPostgresError('columns lists a column twice: %s' % ', '.join(columns))
        events = [e for e in EVENT_ORDER if e in p['events']]
        if not events:
            raise DbfleetPostgresError('events must name at least one of INSERT, UPDATE, DELETE')
    except DbfleetPostgresError as exc:
        module.fail_json(msg=str(exc))

    result = dict(changed=False, function='%s.%s' % (schema, name), trigger=name, channel=channel,
                  columns=columns, queries=[])
    conn = connect(module)
    try:
        run = Executor(conn, check_mode=module.check_mode)
        rel = fetch_one(conn, "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
                        (schema, table))
        if rel is None:
            module.fail_json(msg='table %s.%s does not exist in database %s' % (
                schema, table, conn.get_dsn_parameters().get('dbname')), **result)
        fn = fetch_one(conn, "SELECT p.oid, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                             "WHERE n.nspname = %s AND p.proname = %s AND p.pronargs = 0", (schema, name))
        trg = fetch_one(conn, "SELECT tgfoid, tgtype, tgenabled, tgnargs, tgattr::text, tgqual IS NULL "
                              "FROM pg_trigger WHERE tgrelid = %s AND tgname = %s AND NOT tgisinternal",
                        (rel[0], name))
        fn_sql = qualified(schema, name)
        table_sql = qualified(schema, table)
        if p['state'] == 'absent':
            if trg:
                run.execute(sql_text('DROP TRIGGER {} ON {}', ident(name), table_sql))
            if fn:
                run.execute(sql_text('DROP FUNCTION {}()', fn_sql))
        else:
            have = [r[0] for r in fetch_all(conn, "SELECT attname FROM pg_attribute WHERE attrelid = %s "
                                                  "AND attnum > 0 AND NOT attisdropped", (rel[0],))]
            missing = [c for c in columns if c not in have]
            if missing:
                module.fail_json(msg='table %s.%s has no column %s (it has %s)' % (
                    schema, table, ', '.join(missing), ', '.join(have)), **result)
            body = function_body(columns, channel)
            if fn is None or fn[1] != body:
                run.execute(sql_text('CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql '
                                     'AS ', fn_sql) + dollar_quote(body))
            want = (trigger_type(events), 'O', 0, '', True)
            if trg is None or fn is None or trg[0] != fn[0] or tuple(trg[1:]) != want:
                if trg is not None:
                    run.execute(sql_text('DROP TRIGGER {} ON {}', ident(name), table_sql))
                run.execute(sql_text('CREATE TRIGGER {} AFTER %s ON {} FOR EACH ROW EXECUTE FUNCTION {}()'
                                     % ' OR '.join(events), ident(name), table_sql, fn_sql))
        result['queries'] = run.queries
        result['changed'] = bool(run.queries)
        if module.check_mode:
            conn.rollback()
        else:
            conn.commit()
    except (psycopg2.Error, DbfleetPostgresError) as exc:
        conn.rollback()
        module.fail_json(msg='postgres_notify_trigger on %s.%s: %s' % (schema, table, to_text_error(exc)),
                         **result)
    finally:
        conn.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
