# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options shared by every darkreach.dbfleet Redis module
    # (plugins/module_utils/dbfleet_redis.py: redis_common_argument_spec()).
    DOCUMENTATION = r'''
options:
  login_host:
    description:
      - Host running the Redis server.
    type: str
    default: 127.0.0.1
    aliases: [ host ]
  login_port:
    description:
      - Port of the Redis server (its TLS port when O(tls=true)).
    type: int
    default: 6379
    aliases: [ port ]
  login_user:
    description:
      - The ACL user to authenticate as. V(default) means the legacy C(AUTH password) form.
    type: str
    default: default
    aliases: [ user ]
  login_password:
    description:
      - The password of O(login_user). Not logged.
      - Unset means no authentication (refused by servers set up by the
        C(darkreach.dbfleet.redis_sidecar) role).
    type: str
    aliases: [ password ]
  db:
    description:
      - The logical database number to select.
    type: int
    default: 0
  tls:
    description:
      - Connect over TLS.
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the server certificate when O(tls=true).
    type: bool
    default: true
  ca_certs:
    description:
      - A file of certificate authorities to verify the server certificate against.
    type: path
  client_cert_file:
    description:
      - Client certificate, when the server requires one (C(tls-auth-clients yes)).
    type: path
  client_key_file:
    description:
      - Key of O(client_cert_file).
    type: path
  connect_timeout:
    description:
      - Seconds to wait for the connection and for each reply.
    type: float
    default: 10.0
requirements:
  - redis (redis-py) on the host that runs the module
notes:
  - >-
    The module runs where the task runs; to reach a server from the control node use
    C(delegate_to: localhost) or a play on C(localhost) with O(login_host).
'''
