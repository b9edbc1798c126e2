"""Fixtures for the Redis module tests.

* ``redis_server``: one Debian 13 container with Debian's Redis 8, the default user off
  and three ACL users like the redis_sidecar role makes them (admin, worker limited to
  ``worker:*``, a read-only monitor without KEYS), reachable over TCP on its address.
* ``redis_admin``: a redis-py client as the admin user (to arrange keys).
* ``run_module``: runs one of our modules through ansible-playbook on localhost.
"""
from __future__ import annotations

import os
import time

import pytest
import redis

from helpers.ansible import ansible_env, run_module as _run_module
from helpers.containers import Container

CONTAINER_NAME = "dbfleet-t-redis-module"
ADMIN_PASSWORD = "admin-s3cret-pw"
WORKER_PASSWORD = "worker-s3cret-pw"
MONITOR_PASSWORD = "monitor-s3cret-pw"

SERVER_CONF = """\
# dbfleet Redis module tests
bind 0.0.0.0
protected-mode yes
port 6379
aclfile /etc/redis/users.acl
appendonly no
save ""
"""

ACL_FILE = f"""\
user default off resetkeys resetchannels -@all
user admin on >{ADMIN_PASSWORD} ~* &* +@all
user worker on >{WORKER_PASSWORD} ~worker:* resetchannels -@all +ping +hello +client|setinfo +get +set +getdel +del +exists +expire +ttl +pttl +incr
user monitor on >{MONITOR_PASSWORD} ~* resetchannels -@all +@read -@dangerous +scan +ping +hello +client|setinfo +info
"""


def setup_server(container) -> None:
    for attempt in range(40):
        try:
            container.apt_install("redis-server")
            break
        except AssertionError as exc:
            if "lock" not in str(exc) or attempt == 39:
                raise
            time.sleep(15)
    container.run("cat > /etc/redis/users.acl && chown redis:redis /etc/redis/users.acl "
                  "&& chmod 0600 /etc/redis/users.acl", stdin=ACL_FILE)
    container.run("cat > /etc/redis/redis.conf && chown redis:redis /etc/redis/redis.conf",
                  stdin=SERVER_CONF)
    container.run("systemctl restart redis-server")


@pytest.fixture(scope="session")
def redis_server():
    """One container for the session, removed at the end (by name).

    DBFLEET_REDIS_HOST reuses an already prepared server (while developing the tests).
    """
    if os.environ.get("DBFLEET_REDIS_HOST"):
        yield {"host": os.environ["DBFLEET_REDIS_HOST"], "port": 6379}
        return
    container = Container(name=CONTAINER_NAME)
    try:
        container.start()
        setup_server(container)
        info = {"host": container.ip, "port": 6379}
        client = redis.Redis(host=info["host"], port=6379, username="admin",
                             password=ADMIN_PASSWORD, socket_timeout=10)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        client.close()
        yield info
    finally:
        container.remove()


@pytest.fixture
def redis_admin(redis_server):
    client = redis.Redis(host=redis_server["host"], port=redis_server["port"], username="admin",
                         password=ADMIN_PASSWORD, decode_responses=True, socket_timeout=30)
    client.flushall()
    yield client
    client.flushall()
    client.close()


@pytest.fixture(scope="session")
def module_env():
    return ansible_env()


@pytest.fixture
def run_module(tmp_path, module_env, redis_server):
    """run_module(module, args, user='monitor', check=False) -> task result dict."""
    passwords = {"admin": ADMIN_PASSWORD, "worker": WORKER_PASSWORD, "monitor": MONITOR_PASSWORD}

    def run(module, args, user="monitor", password=None, check=False):
        params = {"login_host": redis_server["host"], "login_port": redis_server["port"],
                  "login_user": user,
                  "login_password": password if password is not None else passwords[user]}
        params.update(args)
        return _run_module(module, params, workdir=tmp_path, check=check, env=module_env)

    return run
