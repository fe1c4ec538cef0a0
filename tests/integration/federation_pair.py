"""Helpers shared by the tests that run two (or more) Herald homeservers against each other: the two-server
test base class, polling until federation has done its part, and reading a server's SQLite database
directly (read-only)."""
import os
import shutil
import sqlite3
import tempfile
import time
import unittest

from harness import MatrixAssertions, start_federation_servers
from tls_ca import TestCA


def wait_until(fn, timeout=30, interval=0.1):
    """Calls fn until it returns something true, or `timeout` seconds passed; returns its last value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    return fn()


def read_db(hs, sql, params=()):
    """Rows of a read-only query on a running server's database."""
    db = sqlite3.connect(f"file:{hs.dir}/homeserver.db?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


# Retry quickly in tests: a server that was down is tried again within a second.
RETRY_YAML = "federation: {destination_min_retry_interval: 100ms, destination_retry_multiplier: 2, " \
             "destination_max_retry_interval: 1s}"


def register(hs, name):
    """Registers `name` on `hs`; returns the access token."""
    status, _, body = hs.client("POST", "/register", body={"username": name, "password": "password123",
                                                         "auth": {"type": "m.login.dummy"}})
    assert status == 200, body
    return body["access_token"]


class TwoHeraldsTest(MatrixAssertions, unittest.TestCase):
    """Base of the tests that run two real Herald homeservers against each other over TLS with a test CA:
    A (`cls.a`) and B (`cls.b`), started once per class. USERS names the accounts registered on each at
    the start; each becomes `cls.<name>` (its access token) and `cls.<name>_id` (its user ID). Then
    set_up_servers() runs, for what else a class needs once (rooms, profiles)."""
    TMP_PREFIX = "herald-fed-"
    EXTRA_YAML = RETRY_YAML
    SERVER_OPTIONS = {}  # more keyword arguments of start_federation_servers
    USERS = {"a": (), "b": ()}

    @classmethod
    def set_up_servers(cls):
        pass

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix=cls.TMP_PREFIX)
        cls.ca = TestCA(os.path.join(cls.tmp, "ca"))
        cls.a, cls.b = start_federation_servers(cls.ca, extra_yaml=cls.EXTRA_YAML, **cls.SERVER_OPTIONS)
        try:
            for server, names in cls.USERS.items():
                hs = getattr(cls, server)
                for name in names:
                    setattr(cls, name, register(hs, name))
                    setattr(cls, f"{name}_id", f"@{name}:{hs.server_name}")
            cls.set_up_servers()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in (cls.a, cls.b):
            s.stop()
            s.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    register = staticmethod(register)

    def logs(self, tail=4000):
        """The end of both servers' logs, for failure messages."""
        return "\n--- A ---\n" + self.a.read_log()[-tail:] + "\n--- B ---\n" + self.b.read_log()[-tail:]
