# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options shared by every darkreach.dbfleet PostgreSQL module
    # (plugins/module_utils/dbfleet_postgres.py: postgres_common_argument_spec()).
    DOCUMENTATION = r'''
options:
  login_host:
    description:
      - Host running the database server.
      - Empty means a local Unix socket (see O(login_unix_socket)).
    type: str
    default: ''
    aliases: [ host ]
  login_port:
    description:
      - Database port to connect to.
    type: int
    default: 5432
    aliases: [ port ]
  login_user:
    description:
      - The role to connect as.
    type: str
    default: postgres
    aliases: [ user ]
  login_password:
    description:
      - The password of O(login_user). Not logged.
    type: str
    default: ''
    aliases: [ password ]
  login_unix_socket:
    description:
      - Directory of the local Unix socket, used when O(login_host) is empty.
    type: str
    default: ''
    aliases: [ unix_socket ]
  login_db:
    description:
      - Name of the database to connect to and work in.
      - Empty means the server's default (the name of O(login_user)).
    type: str
    default: ''
    aliases: [ db, database ]
  ssl_mode:
    description:
      - Whether and with what priority an SSL connection is negotiated with the server.
      - See U(https://www.postgresql.org/docs/current/libpq-ssl.html) for the modes.
    type: str
    default: prefer
    choices: [ allow, disable, prefer, require, verify-ca, verify-full ]
  ca_cert:
    description:
      - A file of certificate authorities; the server certificate is verified against it
        when O(ssl_mode) is V(verify-ca) or V(verify-full).
    type: path
    aliases: [ ssl_rootcert ]
  connect_timeout:
    description:
      - Seconds to wait for a connection.
    type: int
    default: 30
requirements:
  - psycopg2 on the host that runs the module
notes:
  - >-
    The module runs where the task runs; to reach a server from the control node use
    C(delegate_to: localhost) or a play on C(localhost) with O(login_host).
'''

    # A second server given as one dict option (module_utils endpoint_argument_spec()),
    # for example the cutover's source.
    SOURCE = r'''
options:
  source:
    description:
      - Login options of the source database. The module's own login options describe the target.
    type: dict
    required: true
    suboptions:
      login_host:
        description: Host running the source server; empty means a local Unix socket.
        type: str
        default: ''
      login_port:
        description: Port of the source server.
        type: int
        default: 5432
      login_user:
        description: The role to connect as.
        type: str
        default: postgres
      login_password:
        description: The password of O(source.login_user). Not logged.
        type: str
        default: ''
      login_unix_socket:
        description: Directory of the local Unix socket, used when O(source.login_host) is empty.
        type: str
        default: ''
      login_db:
        description: The source database.
        type: str
        default: ''
      ssl_mode:
        description: Whether and with what priority an SSL connection is negotiated.
        type: str
        default: prefer
        choices: [ allow, disable, prefer, require, verify-ca, verify-full ]
      ca_cert:
        description: A file of certificate authorities to verify the server certificate against.
        type: path
      connect_timeout:
        description: Seconds to wait for a connection.
        type: int
        default: 30
'''
