# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A PostgreSQL SCRAM-SHA-256 verifier (RFC 5802/7677, PostgreSQL's rolpassword format) of a
password, for files that must not hold the password itself (PgBouncer's auth_file)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: scram_verifier
short_description: PostgreSQL SCRAM-SHA-256 verifier of a password
version_added: 0.1.0
description:
  - Returns C(SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>), the format of
    C(pg_authid.rolpassword) and of PgBouncer's C(auth_file).
  - The salt is derived from O(salt_seed) and the password (HMAC-SHA-256), so the same input
    gives the same verifier and a file holding it stays unchanged between runs; a different
    seed (for example the user name) gives a different salt.
options:
  _input:
    description: The password.
    type: str
    required: true
  salt_seed:
    description: Input of the salt derivation, for example the user name.
    type: str
    default: ""
  iterations:
    description: PBKDF2 iterations (PostgreSQL's default is 4096).
    type: int
    default: 4096
'''

EXAMPLES = r'''
- name: Write a userlist entry
  ansible.builtin.copy:
    dest: /etc/pgbouncer/userlist.txt
    content: '"admin" "{{ admin_password | darkreach.dbfleet.scram_verifier("admin") }}"'
    mode: "0600"
'''

RETURN = r'''
_value:
  description: The verifier.
  type: str
'''

import base64
import hashlib
import hmac


def scram_verifier(password, salt_seed="", iterations=4096):
    if not isinstance(password, str) or not password:
        raise ValueError("scram_verifier: the password must be a non-empty string")
    iterations = int(iterations)
    if iterations < 4096:
        raise ValueError("scram_verifier: iterations must be at least 4096")
    pw = password.encode("utf-8")
    salt = hmac.new(pw, ("dbfleet-scram-salt:" + str(salt_seed)).encode("utf-8"),
                    hashlib.sha256).digest()[:16]
    return verifier_with_salt(password, salt, iterations)


def verifier_with_salt(password, salt, iterations=4096):
    """The verifier for a given salt (bytes), as PostgreSQL computes it."""
    pw = password.encode("utf-8")
    salted = hashlib.pbkdf2_hmac("sha256", pw, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw):
        return base64.b64encode(raw).decode("ascii")

    return "SCRAM-SHA-256$%d:%s$%s:%s" % (iterations, b64(salt), b64(stored_key), b64(server_key))


class FilterModule(object):
    def filters(self):
        return {"scram_verifier": _filter}


def _filter(*args, **kwargs):
    try:
        return scram_verifier(*args, **kwargs)
    except ValueError as exc:
        from ansible.errors import AnsibleFilterError
        raise AnsibleFilterError(str(exc))
