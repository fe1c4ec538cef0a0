"""Issue 11, items 5-7: devices (with password user-interactive auth for deleting), server-side key backup
(room_keys versions and keys), and the display name a new account starts with."""
import time
import unittest
import urllib.parse

from harness import UsersOnOneServer

PASSWORD = "password123"  # what harness.register gives every user


def q(s):
    return urllib.parse.quote(s, safe="")


def key_data(index=0, forwarded=0, verified=False, text="secret"):
    return {"first_message_index": index, "forwarded_count": forwarded, "is_verified": verified,
            "session_data": {"ciphertext": text, "mac": "m", "ephemeral": "e"}}


class DevicesTest(UsersOnOneServer):
    user_names = ["alice", "bob", "dana", "erin"]

    def login(self, who, device_id=None, name=None):
        extra = {}
        if device_id:
            extra["device_id"] = device_id
        if name:
            extra["initial_device_display_name"] = name
        return self.ok(self.hs.login(who, **extra))

    def password_auth(self, who, session=None, password=PASSWORD, user=None):
        auth = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user or who},
                "password": password}
        if session:
            auth["session"] = session
        return auth

    def test_list_get_and_rename_devices(self):
        phone = self.login("alice", device_id="PHONE", name="Alice's phone")
        devices = self.ok(self.call("alice", "GET", "/devices"))["devices"]
        by_id = {d["device_id"]: d for d in devices}
        self.assertIn("PHONE", by_id)
        self.assertEqual(by_id["PHONE"]["display_name"], "Alice's phone")
        self.assertGreaterEqual(len(devices), 2)  # the registration device too
        # A request with the phone's token records when and from where it was last seen.
        self.ok(self.hs.client("GET", "/account/whoami", token=phone["access_token"]))
        for prefix in ["/_matrix/client/v3", "/_matrix/client/r0"]:
            got = self.ok(self.call("alice", "GET", "/devices/PHONE", prefix=prefix))
            self.assertEqual(got["device_id"], "PHONE")
        deadline = time.time() + 5
        while True:  # written off the request's path, so wait a little
            seen = self.ok(self.call("alice", "GET", "/devices/PHONE"))
            if "last_seen_ts" in seen or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertAlmostEqual(seen["last_seen_ts"] / 1000, time.time(), delta=60)
        self.assertEqual(seen["last_seen_ip"], "127.0.0.1")

        self.ok(self.call("alice", "PUT", "/devices/PHONE", body={"display_name": "Old phone"}))
        self.assertEqual(self.ok(self.call("alice", "GET", "/devices/PHONE"))["display_name"], "Old phone")
        self.ok(self.call("alice", "PUT", "/devices/PHONE", body={}))  # nothing to change
        self.assertEqual(self.ok(self.call("alice", "GET", "/devices/PHONE"))["display_name"], "Old phone")

    def test_device_errors(self):
        self.err(self.call("alice", "GET", "/devices/NOSUCHDEVICE"), 404, "M_NOT_FOUND")
        self.err(self.call("alice", "PUT", "/devices/NOSUCHDEVICE", body={"display_name": "x"}), 404, "M_NOT_FOUND")
        self.err(self.call("alice", "PUT", "/devices/NOSUCHDEVICE", body={}), 404, "M_NOT_FOUND")
        # Another user's device is not yours to see or rename.
        self.login("bob", device_id="BOBS")
        self.err(self.call("alice", "GET", "/devices/BOBS"), 404, "M_NOT_FOUND")
        self.err(self.call("alice", "PUT", "/devices/BOBS", body={"display_name": "mine"}), 404, "M_NOT_FOUND")
        self.assertNotIn("BOBS", [d["device_id"] for d in self.ok(self.call("alice", "GET", "/devices"))["devices"]])
        self.err(self.call("alice", "PUT", "/devices/PHONE", body={"display_name": 5}), 400, "M_BAD_JSON")
        self.err(self.call("alice", "PUT", "/devices/PHONE", body={"display_name": "x" * 600}), 400, "M_INVALID_PARAM")
        self.err(self.call("alice", "PUT", "/devices/PHONE", raw=b"{oops"), 400, "M_NOT_JSON")
        self.err(self.hs.client("GET", "/devices"), 401, "M_MISSING_TOKEN")
        self.err(self.hs.client("GET", "/devices", token="nope"), 401, "M_UNKNOWN_TOKEN")
        self.err(self.call("alice", "POST", "/delete_devices", body={}), 400, "M_MISSING_PARAM")
        self.err(self.call("alice", "POST", "/delete_devices", body={"devices": [1]}), 400, "M_BAD_JSON")

    def test_delete_device_with_password_auth(self):
        laptop = self.login("dana", device_id="LAPTOP")
        # No auth: 401 with the password flow and a session.
        status, _, challenge = self.call("dana", "DELETE", "/devices/LAPTOP", body={})
        self.assertEqual(status, 401, challenge)
        self.assertEqual(challenge["flows"], [{"stages": ["m.login.password"]}])
        self.assertIn("params", challenge)
        self.assertEqual(challenge["completed"], [])
        session = challenge["session"]
        # A wrong password: 401 M_FORBIDDEN with the flows again, the session kept.
        status, _, wrong = self.call("dana", "DELETE", "/devices/LAPTOP",
                                     body={"auth": self.password_auth("dana", session, password="wrong")})
        self.assertEqual((status, wrong.get("errcode")), (401, "M_FORBIDDEN"), wrong)
        self.assertEqual(wrong["session"], session)
        self.assertEqual(wrong["flows"], [{"stages": ["m.login.password"]}])
        self.assertEqual(wrong["completed"], [])
        # Someone else's password (or naming someone else) does not do either.
        status, _, other = self.call("dana", "DELETE", "/devices/LAPTOP",
                                     body={"auth": self.password_auth("dana", session, user="erin")})
        self.assertEqual((status, other.get("errcode")), (401, "M_FORBIDDEN"), other)
        # An unknown stage or session is refused.
        self.err(self.call("dana", "DELETE", "/devices/LAPTOP", body={"auth": {"type": "m.login.dummy", "session": session}}),
                 400, "M_UNRECOGNIZED")
        self.err(self.call("dana", "DELETE", "/devices/LAPTOP", body={"auth": self.password_auth("dana", "nosuchsession")}),
                 400, "M_UNKNOWN")
        # Another user cannot use dana's session.
        self.err(self.call("erin", "DELETE", "/devices/X", body={"auth": self.password_auth("erin", session)}), 400, "M_UNKNOWN")
        self.ok(self.hs.client("GET", "/account/whoami", token=laptop["access_token"]))  # nothing deleted yet
        # The right password (the full user ID works as the identifier too): deleted, and its token is gone.
        self.ok(self.call("dana", "DELETE", "/devices/LAPTOP",
                          body={"auth": self.password_auth("dana", session, user=self.uid("dana"))}))
        self.err(self.hs.client("GET", "/account/whoami", token=laptop["access_token"]), 401, "M_UNKNOWN_TOKEN")
        self.err(self.call("dana", "GET", "/devices/LAPTOP"), 404, "M_NOT_FOUND")
        # The session ended with the request it authorised.
        self.err(self.call("dana", "DELETE", "/devices/LAPTOP", body={"auth": {"session": session}}), 400, "M_UNKNOWN")

    def test_delete_devices_in_bulk(self):
        tokens = [self.login("erin", device_id=d)["access_token"] for d in ["E1", "E2", "E3"]]
        status, _, challenge = self.call("erin", "POST", "/delete_devices", body={"devices": ["E1", "E2"]})
        self.assertEqual(status, 401, challenge)
        # Password auth without a session (clients may skip the first round trip) on r0.
        self.ok(self.call("erin", "POST", "/delete_devices", prefix="/_matrix/client/r0",
                          body={"devices": ["E1", "E2", "UNKNOWN"], "auth": self.password_auth("erin")}))
        self.err(self.hs.client("GET", "/account/whoami", token=tokens[0]), 401, "M_UNKNOWN_TOKEN")
        self.err(self.hs.client("GET", "/account/whoami", token=tokens[1]), 401, "M_UNKNOWN_TOKEN")
        self.ok(self.hs.client("GET", "/account/whoami", token=tokens[2]))
        left = [d["device_id"] for d in self.ok(self.call("erin", "GET", "/devices"))["devices"]]
        self.assertNotIn("E1", left)
        self.assertIn("E3", left)

    def test_logout_deletes_the_device(self):
        t = self.login("bob", device_id="GONE")["access_token"]
        self.ok(self.hs.client("POST", "/logout", token=t, body={}))
        self.err(self.call("bob", "GET", "/devices/GONE"), 404, "M_NOT_FOUND")


class DisplayNameTest(UsersOnOneServer):
    user_names = ["frank", "gina"]

    def test_new_accounts_are_named_after_their_localpart(self):
        self.assertEqual(self.ok(self.hs.client("GET", "/profile/" + q(self.uid("frank"))))["displayname"], "frank")
        self.assertEqual(self.ok(self.hs.client("GET", f"/profile/{q(self.uid('gina'))}/displayname"))["displayname"],
                         "gina")
        # ... and so are their member events.
        room = self.create("frank", preset="public_chat")
        self.ok(self.call("gina", "POST", f"/rooms/{q(room)}/join", body={}))
        for who in ["frank", "gina"]:
            member = self.ok(self.call("frank", "GET", f"/rooms/{q(room)}/state/m.room.member/{q(self.uid(who))}"))
            self.assertEqual(member["displayname"], who)


class KeyBackupTest(UsersOnOneServer):
    user_names = ["kim", "lee", "max", "nia", "pia"]
    ALGO = "m.megolm_backup.v1.curve25519-aes-sha2"

    def new_version(self, who, auth_data=None):
        body = {"algorithm": self.ALGO, "auth_data": auth_data or {"public_key": "abc", "signatures": {}}}
        return self.ok(self.call(who, "POST", "/room_keys/version", body=body))["version"]

    def test_versions(self):
        self.err(self.call("kim", "GET", "/room_keys/version"), 404, "M_NOT_FOUND")
        v1 = self.new_version("kim")
        info = self.ok(self.call("kim", "GET", "/room_keys/version"))
        self.assertEqual(info, {"algorithm": self.ALGO, "auth_data": {"public_key": "abc", "signatures": {}},
                                "count": 0, "etag": info["etag"], "version": v1})
        self.assertIsInstance(info["etag"], str)
        v2 = self.new_version("kim", {"public_key": "def"})
        self.assertNotEqual(v1, v2)
        self.assertEqual(self.ok(self.call("kim", "GET", "/room_keys/version"))["version"], v2)  # the newest
        self.assertEqual(self.ok(self.call("kim", "GET", f"/room_keys/version/{v1}", prefix="/_matrix/client/r0"))
                         ["auth_data"], {"public_key": "abc", "signatures": {}})
        # Update: auth_data changes, the algorithm may not, a body version must match the path.
        self.ok(self.call("kim", "PUT", f"/room_keys/version/{v2}",
                          body={"algorithm": self.ALGO, "auth_data": {"public_key": "ghi"}, "version": v2}))
        self.assertEqual(self.ok(self.call("kim", "GET", f"/room_keys/version/{v2}"))["auth_data"], {"public_key": "ghi"})
        self.err(self.call("kim", "PUT", f"/room_keys/version/{v2}",
                           body={"algorithm": "m.other", "auth_data": {}}), 400, "M_INVALID_PARAM")
        self.err(self.call("kim", "PUT", f"/room_keys/version/{v2}",
                           body={"algorithm": self.ALGO, "auth_data": {}, "version": v1}), 400, "M_INVALID_PARAM")
        self.err(self.call("kim", "PUT", "/room_keys/version/999", body={"algorithm": self.ALGO, "auth_data": {}}),
                 404, "M_NOT_FOUND")
        # Delete: the previous version is current again; numbers are not reused.
        self.ok(self.call("kim", "DELETE", f"/room_keys/version/{v2}"))
        self.err(self.call("kim", "GET", f"/room_keys/version/{v2}"), 404, "M_NOT_FOUND")
        self.err(self.call("kim", "DELETE", f"/room_keys/version/{v2}"), 404, "M_NOT_FOUND")
        self.assertEqual(self.ok(self.call("kim", "GET", "/room_keys/version"))["version"], v1)
        self.assertNotIn(self.new_version("kim"), [v1, v2])
        # Unknown and malformed versions; another user's versions are not visible.
        for v in ["999", "abc", "-1"]:
            self.err(self.call("kim", "GET", f"/room_keys/version/{v}"), 404, "M_NOT_FOUND")
        self.err(self.call("pia", "GET", f"/room_keys/version/{v1}"), 404, "M_NOT_FOUND")

    def test_version_bodies(self):
        self.err(self.call("lee", "POST", "/room_keys/version", body={"auth_data": {}}), 400, "M_MISSING_PARAM")
        self.err(self.call("lee", "POST", "/room_keys/version", body={"algorithm": self.ALGO}), 400, "M_MISSING_PARAM")
        self.err(self.call("lee", "POST", "/room_keys/version", body={"algorithm": self.ALGO, "auth_data": "x"}),
                 400, "M_BAD_JSON")
        self.err(self.call("lee", "POST", "/room_keys/version", body={"algorithm": 1, "auth_data": {}}), 400, "M_BAD_JSON")
        self.err(self.call("lee", "POST", "/room_keys/version",
                           body={"algorithm": self.ALGO, "auth_data": {"k": "x" * 20000}}), 413, "M_TOO_LARGE")
        self.err(self.call("lee", "POST", "/room_keys/version", raw=b"[1]"), 400, "M_BAD_JSON")
        self.err(self.hs.client("GET", "/room_keys/version"), 401, "M_MISSING_TOKEN")

    def test_keys(self):
        v = self.new_version("max")
        room, room2 = "!room:example.org", "!other:example.org"
        path = f"/room_keys/keys/{q(room)}/s1"
        # One session.
        r = self.ok(self.call("max", "PUT", path, query={"version": v}, body=key_data(index=5, text="first")))
        self.assertEqual(r["count"], 1)
        etag1 = r["etag"]
        self.assertEqual(self.ok(self.call("max", "GET", path, query={"version": v})), key_data(index=5, text="first"))
        # One room's sessions, then many rooms at once.
        r = self.ok(self.call("max", "PUT", f"/room_keys/keys/{q(room)}", query={"version": v},
                              body={"sessions": {"s2": key_data(), "s3": key_data()}}))
        self.assertEqual(r["count"], 3)
        self.assertNotEqual(r["etag"], etag1)
        r = self.ok(self.call("max", "PUT", "/room_keys/keys", query={"version": v}, prefix="/_matrix/client/r0",
                              body={"rooms": {room2: {"sessions": {"t1": key_data(verified=True)}}}}))
        self.assertEqual(r["count"], 4)
        info = self.ok(self.call("max", "GET", "/room_keys/version"))
        self.assertEqual((info["count"], info["etag"]), (4, r["etag"]))
        everything = self.ok(self.call("max", "GET", "/room_keys/keys", query={"version": v}))["rooms"]
        self.assertEqual(sorted(everything), sorted([room, room2]))
        self.assertEqual(sorted(everything[room]["sessions"]), ["s1", "s2", "s3"])
        self.assertEqual(everything[room2]["sessions"]["t1"], key_data(verified=True))
        self.assertEqual(sorted(self.ok(self.call("max", "GET", f"/room_keys/keys/{q(room)}", query={"version": v}))
                                ["sessions"]), ["s1", "s2", "s3"])
        self.assertEqual(self.ok(self.call("max", "GET", f"/room_keys/keys/{q('!empty:example.org')}",
                                           query={"version": v})), {"sessions": {}})
        # Deleting: one session, one room, all.
        r = self.ok(self.call("max", "DELETE", path, query={"version": v}))
        self.assertEqual(r["count"], 3)
        self.err(self.call("max", "GET", path, query={"version": v}), 404, "M_NOT_FOUND")
        self.assertEqual(self.ok(self.call("max", "DELETE", f"/room_keys/keys/{q(room)}", query={"version": v}))["count"], 1)
        self.assertEqual(self.ok(self.call("max", "DELETE", "/room_keys/keys", query={"version": v}))["count"], 0)
        self.assertEqual(self.ok(self.call("max", "GET", "/room_keys/keys", query={"version": v})), {"rooms": {}})

    def test_a_stored_key_is_replaced_only_by_a_better_one(self):
        v = self.new_version("nia")
        path = f"/room_keys/keys/{q('!r:example.org')}/sess"

        def put(**kw):
            return self.ok(self.call("nia", "PUT", path, query={"version": v}, body=key_data(**kw)))

        def stored():
            return self.ok(self.call("nia", "GET", path, query={"version": v}))["session_data"]["ciphertext"]

        etag = put(index=5, forwarded=2, text="a")["etag"]
        self.assertEqual(put(index=6, forwarded=0, text="worse index")["etag"], etag)  # unchanged: same etag
        self.assertEqual(stored(), "a")
        put(index=5, forwarded=3, text="worse forwarded")
        self.assertEqual(stored(), "a")
        put(index=5, forwarded=2, text="equal")
        self.assertEqual(stored(), "a")
        put(index=5, forwarded=1, text="fewer forwards")
        self.assertEqual(stored(), "fewer forwards")
        put(index=2, forwarded=9, text="lower index")
        self.assertEqual(stored(), "lower index")
        put(index=9, forwarded=9, verified=True, text="verified")
        self.assertEqual(stored(), "verified")
        put(index=0, forwarded=0, verified=False, text="unverified")
        self.assertEqual(stored(), "verified")
        self.assertEqual(self.ok(self.call("nia", "GET", "/room_keys/version"))["count"], 1)

    def test_key_errors(self):
        path = f"/room_keys/keys/{q('!r:example.org')}/sess"
        # No backup at all: 404.
        self.err(self.call("lee", "PUT", path, query={"version": "1"}, body=key_data()), 404, "M_NOT_FOUND")
        self.err(self.call("lee", "GET", "/room_keys/keys", query={"version": "1"}), 404, "M_NOT_FOUND")
        old = self.new_version("lee")
        new = self.new_version("lee")
        # Only the current version takes keys: 403 M_WRONG_ROOM_KEYS_VERSION naming it.
        body = self.err(self.call("lee", "PUT", path, query={"version": old}, body=key_data()), 403,
                        "M_WRONG_ROOM_KEYS_VERSION")
        self.assertEqual(body["current_version"], new)
        body = self.err(self.call("lee", "PUT", "/room_keys/keys", query={"version": "12345"}, body={"rooms": {}}), 403,
                        "M_WRONG_ROOM_KEYS_VERSION")
        self.assertEqual(body["current_version"], new)
        # The version parameter is required; an unknown version has no keys to read or delete.
        self.err(self.call("lee", "PUT", path, body=key_data()), 400, "M_MISSING_PARAM")
        self.err(self.call("lee", "GET", "/room_keys/keys"), 400, "M_MISSING_PARAM")
        self.err(self.call("lee", "DELETE", "/room_keys/keys"), 400, "M_MISSING_PARAM")
        self.err(self.call("lee", "GET", "/room_keys/keys", query={"version": "999"}), 404, "M_NOT_FOUND")
        self.err(self.call("lee", "DELETE", "/room_keys/keys", query={"version": "999"}), 404, "M_NOT_FOUND")
        self.err(self.call("lee", "GET", path, query={"version": new}), 404, "M_NOT_FOUND")
        # Bad bodies name the field.
        for bad, code in [({"forwarded_count": 0, "is_verified": False, "session_data": {}}, "M_MISSING_PARAM"),
                          (dict(key_data(), first_message_index="1"), "M_BAD_JSON"),
                          (dict(key_data(), first_message_index=-1), "M_INVALID_PARAM"),
                          (dict(key_data(), is_verified="yes"), "M_BAD_JSON"),
                          (dict(key_data(), session_data="opaque"), "M_BAD_JSON")]:
            self.err(self.call("lee", "PUT", path, query={"version": new}, body=bad), 400, code)
        self.err(self.call("lee", "PUT", path, query={"version": new},
                           body=dict(key_data(), session_data={"c": "x" * 20000})), 413, "M_TOO_LARGE")
        self.err(self.call("lee", "PUT", f"/room_keys/keys/{q('!r:example.org')}", query={"version": new}, body={}),
                 400, "M_MISSING_PARAM")
        self.err(self.call("lee", "PUT", "/room_keys/keys", query={"version": new}, body={"rooms": {"!r:x": 5}}),
                 400, "M_BAD_JSON")
        self.err(self.call("lee", "PUT", "/room_keys/keys", query={"version": new},
                           body={"rooms": {"not-a-room": {"sessions": {}}}}), 400, "M_INVALID_PARAM")
        self.err(self.call("lee", "PUT", f"/room_keys/keys/{q('not-a-room')}/s", query={"version": new},
                           body=key_data()), 400, "M_INVALID_PARAM")
        # Nothing of that was stored.
        self.assertEqual(self.ok(self.call("lee", "GET", "/room_keys/version"))["count"], 0)


class KeyBackupRateLimitTest(UsersOnOneServer):
    user_names = ["olga"]

    @classmethod
    def setUpClass(cls):
        from harness import HeraldServer
        cls.hs = HeraldServer(rate_limits_enabled=True, rate_limits_yaml="  key_backup: {per_second: 0.001, burst: 2}").start()
        cls.users = {name: cls.hs.register(name)["access_token"] for name in cls.user_names}

    def test_backup_writes_are_rate_limited(self):
        body = {"algorithm": "m.megolm_backup.v1.curve25519-aes-sha2", "auth_data": {}}
        self.ok(self.call("olga", "POST", "/room_keys/version", body=body))
        self.ok(self.call("olga", "POST", "/room_keys/version", body=body))
        limited = self.err(self.call("olga", "POST", "/room_keys/version", body=body), 429, "M_LIMIT_EXCEEDED")
        self.assertIn("retry_after_ms", limited)
        self.ok(self.call("olga", "GET", "/room_keys/version"))  # reads are not limited


if __name__ == "__main__":
    unittest.main()
