"""Helpers shared by the tests that run two (or more) Herald homeservers against each other: polling until
federation has done its part, and reading a server's SQLite database directly (read-only)."""
import sqlite3
import time


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
