"""Driver for bench/federation_membership.sh: two Herald homeservers (HERALD_BIN) over TLS with rate limits
off, then the membership figures issue 15 asks for: federated invite -> the invitee's waiting /sync on the
other server (p50/p99), remote joins per second into one room, and the time one user takes to join a room
of 10,000 members through another server. LOAD_DRIVER names bench/load_driver (fills the big room)."""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import start_federation_servers  # noqa: E402
from tls_ca import TestCA  # noqa: E402

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "10000"))


def q(s):
    return urllib.parse.quote(s, safe="")


def register(hs, name):
    status, _, body = hs.client("POST", "/register", body={"username": name, "auth": {"type": "m.login.dummy"}})
    assert status == 200, body
    return body["access_token"]


def ok(result):
    status, _, body = result
    assert status == 200, body
    return body


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def invite_to_sync(a, b, alice, samples=100):
    """alice (A) invites carol (B) into a fresh room each time; the time until carol's waiting /sync has it."""
    carol = register(b, "carol")
    carol_id = f"@carol:{b.server_name}"
    rooms = [ok(a.client("POST", "/createRoom", token=alice, body={"preset": "private_chat"}))["room_id"]
             for _ in range(samples)]
    since = ok(b.client("GET", "/sync", token=carol, query={"timeout": 0}))["next_batch"]
    delays = []
    for room in rooms:
        seen = {}

        def wait_sync():
            nonlocal since
            while "t" not in seen:
                body = ok(b.client("GET", "/sync", token=carol, query={"timeout": 30000, "since": since}, timeout=60))
                since = body["next_batch"]
                if room in body.get("rooms", {}).get("invite", {}):
                    seen["t"] = time.time()

        waiter = threading.Thread(target=wait_sync)
        waiter.start()
        time.sleep(0.02)  # the /sync is waiting
        t0 = time.time()
        ok(a.client("POST", f"/rooms/{q(room)}/invite", token=alice, body={"user_id": carol_id}))
        waiter.join(60)
        delays.append((seen["t"] - t0) * 1000)
    delays.sort()
    print(f"invite on A -> invitee's /sync on B: p50 {percentile(delays, 0.5):.1f} ms, "
          f"p99 {percentile(delays, 0.99):.1f} ms, max {delays[-1]:.1f} ms over {len(delays)} invites")


def remote_joins(a, b, alice, users=200, threads=8):
    """Two figures. Handshakes: one user of B joins each of `users` // 2 rooms on A that B is not in yet
    (make_join, send_join with the room's state, checks, storage), `threads` at a time. Into one room:
    `users` users of B join one room on A (the first through A; B is then in the room, so the rest are
    B's own joins sent to A over /send), until A lists them all."""
    rooms = [ok(a.client("POST", "/createRoom", token=alice, body={"preset": "public_chat"}))["room_id"]
             for _ in range(users // 2)]
    eve = register(b, "eve")
    failures = []

    def run_handshakes(t):
        for i in range(t, len(rooms), threads):
            status, _, body = b.client("POST", f"/join/{q(rooms[i])}", token=eve, body={},
                                       query={"server_name": a.server_name}, timeout=120)
            if status != 200:
                failures.append(body)

    started = time.time()
    workers = [threading.Thread(target=run_handshakes, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    took = time.time() - started
    print(f"remote join handshakes: one user of B into {len(rooms)} rooms on A, {threads} at a time: {took:.2f} s = "
          f"{len(rooms) / took:.1f} joins/s, failures {len(failures)}")

    room = ok(a.client("POST", "/createRoom", token=alice, body={"preset": "public_chat"}))["room_id"]
    tokens = [register(b, f"joiner{i}") for i in range(users)]
    failures.clear()

    def run(t):
        for i in range(t, users, threads):
            status, _, body = b.client("POST", f"/join/{q(room)}", token=tokens[i], body={},
                                       query={"server_name": a.server_name}, timeout=120)
            if status != 200:
                failures.append(body)

    started = time.time()
    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    while len(ok(a.client("GET", f"/rooms/{q(room)}/joined_members", token=alice))["joined"]) < users + 1:
        time.sleep(0.01)
    took = time.time() - started
    print(f"remote joins into one room: {users} users of B, {threads} at a time, all listed on A after {took:.2f} s = "
          f"{users / took:.1f} joins/s, failures {len(failures)}")


def big_room_join(a, b, alice):
    room = ok(a.client("POST", "/createRoom", token=alice, body={"preset": "public_chat", "name": "big"}))["room_id"]
    subprocess.run([os.environ["LOAD_DRIVER"], str(a.port), "fill", room, str(MEMBERS), "16"], check=True)
    dave = register(b, "dave")
    t0 = time.time()
    body = ok(b.client("POST", f"/join/{q(room)}", token=dave, body={}, query={"server_name": a.server_name},
                       timeout=600))
    took = time.time() - t0
    assert body["room_id"] == room
    t1 = time.time()
    synced = ok(b.client("GET", "/sync", token=dave, query={"timeout": 0}, timeout=600))
    sync_took = time.time() - t1
    joined = ok(b.client("GET", f"/rooms/{q(room)}/joined_members", token=dave, timeout=120))["joined"]
    state = synced["rooms"]["join"][room]
    print(f"join of a room of {MEMBERS + 1} members through A: {took:.2f} s (make_join, send_join with "
          f"the whole state, checks, storage); B then lists {len(joined)} joined members; dave's first /sync "
          f"{sync_took:.2f} s with {len(state.get('state', {}).get('events', []))} state events")


def main():
    tmp = tempfile.mkdtemp(prefix="herald-bench-fedm-")
    ca = TestCA(os.path.join(tmp, "ca"))
    extra = "rate_limits: {enabled: false}\n" \
            "federation: {destination_min_retry_interval: 100ms, destination_max_retry_interval: 500ms}"
    a, b = start_federation_servers(ca, extra_yaml=extra)
    try:
        alice = register(a, "alice")
        invite_to_sync(a, b, alice)
        remote_joins(a, b, alice)
        big_room_join(a, b, alice)
    finally:
        for s in (a, b):
            try:
                s.stop()
            except Exception as e:  # a slow shutdown is itself a finding: show what the server was doing
                print(f"{s.server_name} did not stop: {e}\n{s.read_log()[-4000:]}")
                s.kill9()
            s.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
