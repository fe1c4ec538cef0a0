"""Driver for bench/federation.sh: two Herald homeservers (HERALD_BIN) over TLS, a room both are in (seeded
as tests/integration/test_federation_outbound.py does), then throughput and latency figures."""
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import start_federation_servers  # noqa: E402
from tls_ca import TestCA  # noqa: E402


def q(s):
    return urllib.parse.quote(s, safe="")


def register(hs, name):
    status, _, body = hs.client("POST", "/register", body={"username": name, "password": "password123",
                                                         "auth": {"type": "m.login.dummy"}})
    assert status == 200, body
    return body["access_token"]


def count_stored(hs, room):
    db = sqlite3.connect(f"file:{hs.dir}/homeserver.db?mode=ro", uri=True, timeout=30)
    try:
        return db.execute("SELECT COUNT(*) FROM events WHERE room_id = ? AND type = 'm.room.message'", (room,)).fetchone()[0]
    finally:
        db.close()


def send(hs, token, room, text):
    status, _, body = hs.client("POST", f"/rooms/{q(room)}/send/m.room.message", token=token,
                                body={"msgtype": "m.text", "body": text})
    assert status == 200, body
    return body["event_id"]


def wait_count(hs, room, n, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if count_stored(hs, room) >= n:
            return time.time()
        time.sleep(0.01)
    raise RuntimeError(f"only {count_stored(hs, room)} of {n} arrived")


def main():
    tmp = tempfile.mkdtemp(prefix="herald-bench-fed-")
    ca = TestCA(os.path.join(tmp, "ca"))
    retry = "federation: {destination_min_retry_interval: 100ms, destination_max_retry_interval: 500ms}"
    a, b = start_federation_servers(ca, extra_yaml=retry)
    try:
        alice = register(a, "alice")
        status, _, body = a.client("POST", "/createRoom", token=alice, body={"preset": "public_chat"})
        room = body["room_id"]
        b.stop()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{b.dir}/homeserver.db{suffix}"):
                os.remove(f"{b.dir}/homeserver.db{suffix}")
        src = sqlite3.connect(f"file:{a.dir}/homeserver.db?mode=ro", uri=True)
        dst = sqlite3.connect(f"{b.dir}/homeserver.db")
        src.backup(dst)
        src.close()
        dst.close()
        b.start()
        bob = register(b, "bob")
        assert b.client("POST", f"/rooms/{q(room)}/join", token=bob, body={})[0] == 200
        while f"@bob:{b.server_name}" not in a.client("GET", f"/rooms/{q(room)}/joined_members", token=alice)[2].get("joined", {}):
            time.sleep(0.05)

        # 1. Catch-up: 1,000 events queued while B is down, then received by B over /send (50 per transaction).
        n = 1000
        b.stop()
        for i in range(n):
            send(a, alice, room, f"backlog {i}")
        b.start()
        started = time.time()
        done = wait_count(b, room, n)
        print(f"catch-up: {n} PDUs received over /send in {done - started:.2f} s = {n / (done - started):.0f} PDUs/s "
              f"(includes B's start-up to first retry, <= 0.5 s back-off)")

        # 2. Live: 8 clients on A send 1,000 events as fast as they can; B stores them as they come.
        base = count_stored(b, room)
        per_client, clients = 125, 8
        started = time.time()
        threads = [threading.Thread(target=lambda c=c: [send(a, alice, room, f"live {c}.{i}") for i in range(per_client)])
                   for c in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sent_at = time.time()
        done = wait_count(b, room, base + per_client * clients)
        total = per_client * clients
        print(f"live: {total} events sent on A in {sent_at - started:.2f} s ({total / (sent_at - started):.0f}/s); "
              f"all received on B after {done - started:.2f} s = {total / (done - started):.0f} PDUs/s")

        # 3. Latency: one message at a time from A to bob's waiting /sync on B.
        since = b.client("GET", "/sync", token=bob, query={"timeout": 0})[2]["next_batch"]
        delays = []
        for i in range(200):
            result = {}

            def wait_sync():
                nonlocal since
                while "t" not in result:
                    body = b.client("GET", "/sync", token=bob, query={"timeout": 30000, "since": since}, timeout=60)[2]
                    since = body["next_batch"]
                    events = body.get("rooms", {}).get("join", {}).get(room, {}).get("timeline", {}).get("events", [])
                    if any(e.get("content", {}).get("body") == f"ping {i}" for e in events):
                        result["t"] = time.time()

            waiter = threading.Thread(target=wait_sync)
            waiter.start()
            time.sleep(0.02)  # the /sync is waiting
            t0 = time.time()
            send(a, alice, room, f"ping {i}")
            waiter.join(60)
            delays.append((result["t"] - t0) * 1000)
        delays.sort()
        print(f"A send -> B /sync: p50 {delays[len(delays) // 2]:.1f} ms, p99 {delays[int(len(delays) * 0.99)]:.1f} ms, "
              f"max {delays[-1]:.1f} ms over {len(delays)} messages")
    finally:
        for s in (a, b):
            s.stop()
            s.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
