# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared Redis connection code for the darkreach.dbfleet modules.

Every Redis module extends ``redis_common_argument_spec()`` (documented once by the
``darkreach.dbfleet.redis`` doc fragment) and connects with ``connect()``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import traceback

from ansible.module_utils.basic import missing_required_lib

REDIS_IMP_ERR = None
try:
    import redis
    HAS_REDIS = True
except ImportError:
    REDIS_IMP_ERR = traceback.format_exc()
    redis = None  # pylint: disable=invalid-name
    HAS_REDIS = False


def redis_common_argument_spec():
    """The connection options every dbfleet Redis module accepts."""
    return dict(
        login_host=dict(type='str', default='127.0.0.1', aliases=['host']),
        login_port=dict(type='int', default=6379, aliases=['port']),
        login_user=dict(type='str', default='default', aliases=['user']),
        login_password=dict(type='str', no_log=True, aliases=['password']),
        db=dict(type='int', default=0),
        tls=dict(type='bool', default=False),
        validate_certs=dict(type='bool', default=True),
        ca_certs=dict(type='path'),
        client_cert_file=dict(type='path'),
        client_key_file=dict(type='path'),
        connect_timeout=dict(type='float', default=10.0),
    )


def ensure_redis(module):
    if not HAS_REDIS:
        module.fail_json(msg=missing_required_lib('redis'), exception=REDIS_IMP_ERR)


def connection_kwargs(params):
    """redis.Redis() keyword arguments from module params (pure function)."""
    kw = dict(
        host=params.get('login_host') or '127.0.0.1',
        port=params.get('login_port') or 6379,
        db=params.get('db') or 0,
        socket_timeout=params.get('connect_timeout') or 10.0,
        socket_connect_timeout=params.get('connect_timeout') or 10.0,
        decode_responses=True,
    )
    if params.get('login_user') and params.get('login_user') != 'default':
        kw['username'] = params['login_user']
    if params.get('login_password'):
        kw['password'] = params['login_password']
    if params.get('tls'):
        kw['ssl'] = True
        kw['ssl_cert_reqs'] = 'required' if params.get('validate_certs', True) else 'none'
        if params.get('ca_certs'):
            kw['ssl_ca_certs'] = params['ca_certs']
        if params.get('client_cert_file'):
            kw['ssl_certfile'] = params['client_cert_file']
        if params.get('client_key_file'):
            kw['ssl_keyfile'] = params['client_key_file']
    return kw


def describe_endpoint(params):
    """``user@host:port/db`` for messages (never the password)."""
    return '%s@%s:%s/%s' % (params.get('login_user') or 'default', params.get('login_host'),
                            params.get('login_port'), params.get('db') or 0)


def connect(module):
    """A connected redis.Redis client (PING answered), or fail_json with a readable message."""
    ensure_redis(module)
    client = redis.Redis(**connection_kwargs(module.params))
    try:
        client.ping()
    except redis.exceptions.AuthenticationError as exc:
        module.fail_json(msg='authentication to Redis %s failed: %s' % (
            describe_endpoint(module.params), to_text_error(exc)))
    except redis.exceptions.ResponseError as exc:
        module.fail_json(msg='Redis %s refused PING: %s' % (
            describe_endpoint(module.params), to_text_error(exc)))
    except redis.exceptions.RedisError as exc:
        module.fail_json(msg='unable to connect to Redis %s: %s' % (
            describe_endpoint(module.params), to_text_error(exc)))
    return client


def to_text_error(exc):
    return str(exc).strip().replace('\n', ' ')
