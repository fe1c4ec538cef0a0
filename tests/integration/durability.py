"""Durability under `kill -9`: concurrent writers on several write paths, the server killed at a random
moment, restarted on the same data dir, and every acknowledged write looked up again through the client API.

A write is acknowledged when its answer was a 200. A write whose connection broke (in flight at the kill)
may or may not be there; nothing acknowledged may be missing, and the SQLite file must pass
`PRAGMA integrity_check`. Used by tests/integration/test_durability.py (short, in ctest) and by
bench/durability.py (long, configurable).
"""
import http.client
import itertools
import json
import os
import random
import sqlite3
import threading
import time
import urllib.parse

# What the writers exercise, one thread per kind (times writers_per_kind):
#   message       PUT /rooms/{id}/send/m.room.message/{txn}       -> GET /event/{id}, /messages, the same txn again
#   state         PUT /rooms/{id}/state/{type}/{key}              -> GET /rooms/{id}/state/{type}/{key}
#   membership    POST /register, then /invite by the room owner, then /join by the new user
#                                                                 -> login, whoami, member state, /joined_members
#   account_data  PUT /user/{id}/account_data/{type} and the per-room form  -> GET the same path
#   to_device     PUT /sendToDevice/{type}/{txn} to another user's device   -> that device's /sync
#   keys          POST /login (a device), POST /keys/upload one-time keys   -> whoami, one_time_key_counts
WRITER_KINDS = ("message", "state", "membership", "account_data", "to_device", "keys")
STATE_TYPE = "org.herald.durability"
TO_DEVICE_TYPE = "org.herald.durability"
MAX_KEYS_PER_DEVICE = 9_000  # the server refuses more than 10,000 unclaimed one-time keys per device

CONNECTION_TROUBLE = (OSError, http.client.HTTPException)


def q(text):
    return urllib.parse.quote(text, safe="")


class Connection:
    """One keep-alive HTTP connection; raises CONNECTION_TROUBLE when the server is gone."""

    def __init__(self, port, timeout=30):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def call(self, method, path, body=None, token=None, query=None):
        if query:
            path += "?" + urllib.parse.urlencode(query)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, "/_matrix/client/v3" + path, body=data, headers=headers)
        resp = self.conn.getresponse()
        payload = resp.read()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode(errors="replace")
        return resp.status, parsed

    def close(self):
        self.conn.close()


class DurabilityRun:
    """Writers, kills and checks against one HeraldServer (tests/integration/harness.py) and its data dir."""

    def __init__(self, hs, writers_per_kind=1, seed=None, log=None):
        self.hs = hs
        self.writers_per_kind = writers_per_kind
        self.seed = seed if seed is not None else random.randrange(1 << 32)
        self.rng = random.Random(self.seed)
        self.log = log or (lambda *a: None)
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        # Acknowledged writes, by what they wrote: lists of dicts, appended by the writers.
        self.acked = {k: [] for k in ("message", "state", "register", "invite", "join", "account_data", "to_device",
                                      "login", "keys")}
        self.checked = {k: 0 for k in self.acked}  # how many of each list a check has already covered
        self.in_flight = 0  # writes whose connection broke before an answer: present or not, both are fine
        self.unexpected = []  # non-200 answers while the server was up (none are expected)
        self.problems = []  # acknowledged writes found missing or different, integrity failures
        self.seen_to_device = set()
        self.key_devices = {}  # device_id -> {"token", "acked", "in_flight"}
        self.kills = 0

    # Set-up and rounds ------------------------------------------------------------------------------------

    def setup(self):
        owner = self.hs.register("owner", password="owner password")
        self.owner, self.owner_token = owner["user_id"], owner["access_token"]
        inbox = self.hs.register("inbox", password="inbox password")
        self.inbox, self.inbox_token, self.inbox_device = inbox["user_id"], inbox["access_token"], inbox["device_id"]
        conn = Connection(self.hs.port)
        try:
            self.rooms = {}
            for purpose in ("message", "state", "membership", "account_data"):
                status, body = conn.call("POST", "/createRoom", {"preset": "private_chat", "name": purpose},
                                         token=self.owner_token)
                assert status == 200, (status, body)
                self.rooms[purpose] = body["room_id"]
        finally:
            conn.close()

    def round(self, seconds):
        """Runs every writer against the running server, `kill -9`s it after `seconds`, and waits for the
        writers to notice. The server is left stopped."""
        stop = threading.Event()
        threads = []
        for kind in WRITER_KINDS:
            for w in range(self.writers_per_kind):
                t = threading.Thread(target=self._writer, args=(kind, w, stop), daemon=True)
                t.start()
                threads.append(t)
        time.sleep(seconds)
        self.hs.kill9()
        self.kills += 1
        stop.set()
        for t in threads:
            t.join(60)
            assert not t.is_alive(), "a writer did not stop after the kill"

    def acked_total(self):
        with self.lock:
            return sum(len(v) for v in self.acked.values())

    # Writers ----------------------------------------------------------------------------------------------

    def _next(self):
        with self.lock:
            return next(self.counter)

    def _ack(self, kind, record):
        with self.lock:
            self.acked[kind].append(record)

    def _writer(self, kind, w, stop):
        conn = Connection(self.hs.port)
        step = getattr(self, "_write_" + kind)
        try:
            while not stop.is_set():
                step(conn, w)
        except CONNECTION_TROUBLE:
            with self.lock:
                self.in_flight += 1  # the write under way when the connection broke
        finally:
            conn.close()

    def _expect(self, what, status, body):
        if status == 200:
            return True
        with self.lock:
            self.unexpected.append(f"{what}: {status} {body}")
        time.sleep(0.05)
        return False

    def _write_message(self, conn, w):
        n = self._next()
        txn, text = f"t{w}-{n}", f"durable message {n}"
        room = self.rooms["message"]
        status, body = conn.call("PUT", f"/rooms/{q(room)}/send/m.room.message/{txn}",
                                 {"msgtype": "m.text", "body": text}, token=self.owner_token)
        if self._expect("send", status, body):
            self._ack("message", {"txn": txn, "body": text, "event_id": body["event_id"]})

    def _write_state(self, conn, w):
        n = self._next()
        key = f"s{w}-{n}"
        room = self.rooms["state"]
        status, body = conn.call("PUT", f"/rooms/{q(room)}/state/{STATE_TYPE}/{key}", {"n": n}, token=self.owner_token)
        if self._expect("state", status, body):
            self._ack("state", {"key": key, "n": n, "event_id": body["event_id"]})

    def _write_membership(self, conn, w):
        n = self._next()
        name, password = f"member{w}x{n}", f"pw {n}"
        status, body = conn.call("POST", "/register", {"username": name, "password": password,
                                                       "auth": {"type": "m.login.dummy"}})
        if not self._expect("register", status, body):
            return
        user, token = body["user_id"], body["access_token"]
        self._ack("register", {"name": name, "password": password, "user_id": user, "token": token})
        room = self.rooms["membership"]
        status, body = conn.call("POST", f"/rooms/{q(room)}/invite", {"user_id": user}, token=self.owner_token)
        if not self._expect("invite", status, body):
            return
        self._ack("invite", {"user_id": user})
        status, body = conn.call("POST", f"/rooms/{q(room)}/join", {}, token=token)
        if self._expect("join", status, body):
            self._ack("join", {"user_id": user})

    def _write_account_data(self, conn, w):
        n = self._next()
        data_type = f"org.herald.durability.{w}.{n}"
        room = self.rooms["account_data"] if n % 2 else None
        path = f"/user/{q(self.owner)}" + (f"/rooms/{q(room)}" if room else "") + f"/account_data/{data_type}"
        status, body = conn.call("PUT", path, {"n": n}, token=self.owner_token)
        if self._expect("account data", status, body):
            self._ack("account_data", {"path": path, "n": n})

    def _write_to_device(self, conn, w):
        n = self._next()
        content = {"messages": {self.inbox: {self.inbox_device: {"n": n}}}}
        status, body = conn.call("PUT", f"/sendToDevice/{TO_DEVICE_TYPE}/d{w}-{n}", content, token=self.owner_token)
        if self._expect("sendToDevice", status, body):
            self._ack("to_device", {"n": n})

    def _write_keys(self, conn, w):
        device = getattr(conn, "key_device", None)
        if device is None or self.key_devices[device]["acked"] >= MAX_KEYS_PER_DEVICE:
            status, body = conn.call("POST", "/login", {"type": "m.login.password", "password": "owner password",
                                                        "identifier": {"type": "m.id.user", "user": "owner"}})
            if not self._expect("login", status, body):
                return
            device = conn.key_device = body["device_id"]
            with self.lock:
                self.key_devices[device] = {"token": body["access_token"], "acked": 0, "in_flight": 0}
            self._ack("login", {"device_id": device, "token": body["access_token"]})
        entry = self.key_devices[device]
        n = self._next()
        keys = {f"signed_curve25519:k{n}": {"key": f"{n:043d}", "signatures": {}}}
        with self.lock:
            entry["in_flight"] += 1
        status, body = conn.call("POST", "/keys/upload", {"one_time_keys": keys}, token=entry["token"])
        with self.lock:
            entry["in_flight"] -= 1
        if self._expect("keys/upload", status, body):
            with self.lock:
                entry["acked"] += 1
            self._ack("keys", {"device_id": device, "n": n})

    # Checks -----------------------------------------------------------------------------------------------

    def check(self, everything=False, logins=5):
        """Looks up the acknowledged writes not yet checked (every one with everything=True) through the
        client API of the running server, then checks the database file. Returns the problems found so far.
        Every registration's access token is tried; `logins`: how many of the newest also log in with their
        password (an argon2id hash each)."""
        conn = Connection(self.hs.port)
        try:
            with self.lock:
                todo = {k: list(v if everything else v[self.checked[k]:]) for k, v in self.acked.items()}
                for k, v in self.acked.items():
                    self.checked[k] = len(v)
            self._check_messages(conn, todo["message"], everything)
            self._check_state(conn, todo["state"])
            self._check_membership(conn, todo, logins)
            self._check_account_data(conn, todo["account_data"])
            self._check_to_device(conn, todo["to_device"])
            self._check_keys(conn, todo["login"])
        finally:
            conn.close()
        self.integrity_check()
        return self.problems

    def _problem(self, text):
        self.problems.append(text)
        self.log("LOST OR WRONG: " + text)

    def _check_messages(self, conn, acked, whole_room):
        room = self.rooms["message"]
        for m in acked:
            status, body = conn.call("GET", f"/rooms/{q(room)}/event/{q(m['event_id'])}", token=self.owner_token)
            if status != 200 or body.get("content", {}).get("body") != m["body"]:
                self._problem(f"message {m['event_id']} ({m['txn']}): {status} {body}")
        # Sending with an acknowledged transaction ID again answers the same event (the txn map survived too).
        for m in acked[-20:]:
            status, body = conn.call("PUT", f"/rooms/{q(room)}/send/m.room.message/{m['txn']}",
                                     {"msgtype": "m.text", "body": m["body"]}, token=self.owner_token)
            if status != 200 or body.get("event_id") != m["event_id"]:
                self._problem(f"txn {m['txn']} answered {status} {body}, not {m['event_id']}")
        if whole_room:
            seen, since = {}, None
            while True:
                query = {"dir": "f", "limit": "1000"}
                if since:
                    query["from"] = since
                status, body = conn.call("GET", f"/rooms/{q(room)}/messages", token=self.owner_token, query=query)
                if status != 200:
                    self._problem(f"/messages: {status} {body}")
                    return
                for e in body["chunk"]:
                    seen[e["event_id"]] = e.get("content", {}).get("body")
                if "end" not in body:
                    break
                since = body["end"]
            for m in acked:
                if seen.get(m["event_id"]) != m["body"]:
                    self._problem(f"message {m['event_id']} not in /messages")

    def _check_state(self, conn, acked):
        # One GET of the whole state, then a few single-event GETs (each of which reads the whole state too).
        room = self.rooms["state"]
        status, body = conn.call("GET", f"/rooms/{q(room)}/state", token=self.owner_token)
        if status != 200:
            self._problem(f"state of {room}: {status} {body}")
            return
        current = {(e["type"], e.get("state_key")): e for e in body}
        for s in acked:
            e = current.get((STATE_TYPE, s["key"]))
            if not e or e.get("content") != {"n": s["n"]} or e.get("event_id") != s["event_id"]:
                self._problem(f"state {s['key']}: {e}")
        for s in acked[-5:]:
            status, body = conn.call("GET", f"/rooms/{q(room)}/state/{STATE_TYPE}/{s['key']}", token=self.owner_token)
            if status != 200 or body != {"n": s["n"]}:
                self._problem(f"state {s['key']}: {status} {body}")

    def _check_membership(self, conn, todo, logins):
        room = self.rooms["membership"]
        for r in todo["register"]:
            status, body = conn.call("GET", "/account/whoami", token=r["token"])
            if status != 200 or body.get("user_id") != r["user_id"]:
                self._problem(f"registration {r['user_id']}: whoami {status} {body}")
        for r in todo["register"][-logins:] if logins else []:
            status, body = conn.call("POST", "/login", {"type": "m.login.password", "password": r["password"],
                                                        "identifier": {"type": "m.id.user", "user": r["name"]}})
            if status != 200:
                self._problem(f"registration {r['user_id']}: login {status} {body}")
        if todo["invite"]:
            status, body = conn.call("GET", f"/rooms/{q(room)}/state", token=self.owner_token)
            members = {e["state_key"]: e["content"].get("membership") for e in body
                       if e["type"] == "m.room.member"} if status == 200 else {}
            for i in todo["invite"]:
                if members.get(i["user_id"]) not in ("invite", "join"):
                    self._problem(f"invite of {i['user_id']}: {members.get(i['user_id'])} ({status})")
        if todo["join"]:
            status, body = conn.call("GET", f"/rooms/{q(room)}/joined_members", token=self.owner_token)
            joined = body.get("joined", {}) if status == 200 else {}
            for j in todo["join"]:
                if j["user_id"] not in joined:
                    self._problem(f"join of {j['user_id']} not in /joined_members ({status})")

    def _check_account_data(self, conn, acked):
        for a in acked:
            status, body = conn.call("GET", a["path"], token=self.owner_token)
            if status != 200 or body != {"n": a["n"]}:
                self._problem(f"account data {a['path']}: {status} {body}")

    def _check_to_device(self, conn, acked):
        # The inbox device reads every message waiting for it; each /sync with a `since` lets the server
        # drop what the previous answer carried, so what was seen is remembered here.
        since = None
        while True:
            query = {"timeout": "0"}
            if since:
                query["since"] = since
            status, body = conn.call("GET", "/sync", token=self.inbox_token, query=query)
            if status != 200:
                self._problem(f"inbox /sync: {status} {body}")
                return
            events = body.get("to_device", {}).get("events", [])
            for e in events:
                if e.get("type") == TO_DEVICE_TYPE:
                    self.seen_to_device.add(e["content"]["n"])
            since = body["next_batch"]
            if not events:
                break
        for m in acked:
            if m["n"] not in self.seen_to_device:
                self._problem(f"to-device message {m['n']} never arrived")

    def _check_keys(self, conn, new_logins):
        for login in new_logins:
            status, body = conn.call("GET", "/account/whoami", token=login["token"])
            if status != 200 or body.get("device_id") != login["device_id"]:
                self._problem(f"login of device {login['device_id']}: whoami {status} {body}")
        for device, entry in self.key_devices.items():
            status, body = conn.call("POST", "/keys/upload", {}, token=entry["token"])
            count = body.get("one_time_key_counts", {}).get("signed_curve25519", 0) if status == 200 else None
            # Nobody claims these keys: the count is what was acknowledged, plus perhaps the upload in flight.
            if count is None or not entry["acked"] <= count <= entry["acked"] + entry["in_flight"]:
                self._problem(f"device {device}: {count} one-time keys, {entry['acked']} acknowledged")
            else:
                entry["acked"] = count  # the upload in flight at the kill landed, or did not
            entry["in_flight"] = 0

    def integrity_check(self):
        """PRAGMA integrity_check on the server's database, read-only, beside the running server."""
        path = os.path.join(self.hs.dir, "homeserver.db")
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            result = [row[0] for row in db.execute("PRAGMA integrity_check")]
        finally:
            db.close()
        if result != ["ok"]:
            self._problem(f"integrity_check: {result[:10]}")

    def summary(self):
        with self.lock:
            counts = {k: len(v) for k, v in self.acked.items()}
        return {"seed": self.seed, "kills": self.kills, "acknowledged": sum(counts.values()), "by_kind": counts,
                "in_flight_at_kills": self.in_flight, "unexpected_answers": len(self.unexpected),
                "lost_or_wrong": len(self.problems)}
