"""Issue 11: what clients call at login for end-to-end encryption: device keys, one-time and fallback keys,
cross-signing keys and signatures, device-list tracking, and send-to-device messages."""
import time
import unittest

import nacl.signing

from harness import UsersOnOneServer, b64, canonical, in_background, q


def sign(obj, user, key_id, signing_key):
    """Signs obj (without signatures/unsigned) as the spec's signing JSON says; returns obj with the signature."""
    bare = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    sig = b64(signing_key.sign(canonical(bare)).signature)
    obj.setdefault("signatures", {}).setdefault(user, {})[key_id] = sig
    return obj


class Device:
    """A client device with its own ed25519 key, logged in as `user`."""

    def __init__(self, hs, login):
        self.hs, self.user, self.device, self.token = hs, login["user_id"], login["device_id"], login["access_token"]
        self.key = nacl.signing.SigningKey.generate()

    def call(self, method, path, **kw):
        return self.hs.request(method, "/_matrix/client/v3" + path, token=self.token, **kw)

    def device_keys(self):
        keys = {"user_id": self.user, "device_id": self.device,
                "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
                "keys": {f"ed25519:{self.device}": b64(bytes(self.key.verify_key)),
                         f"curve25519:{self.device}": b64(b"c" * 32)}}
        return sign(keys, self.user, f"ed25519:{self.device}", self.key)

    def otk(self, n):
        return sign({"key": b64(bytes([n]) * 32)}, self.user, f"ed25519:{self.device}", self.key)


class E2eKeysTest(UsersOnOneServer):
    user_names = ["alice", "bob", "carol"]

    def login(self, name, device_name=None):
        body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": name}, "password": "password123"}
        if device_name:
            body["initial_device_display_name"] = device_name
        status, _, data = self.hs.request("POST", "/_matrix/client/v3/login", body=body)
        self.assertEqual(status, 200, data)
        return Device(self.hs, data)

    def sync(self, device, since=None, **query):
        if since:
            query["since"] = since
        return self.ok(device.call("GET", "/sync", query=query))

    def test_device_keys_upload_query_and_errors(self):
        a = self.login("alice", "Alice's laptop")
        counts = self.ok(a.call("POST", "/keys/upload", body={"device_keys": a.device_keys()}))
        self.assertEqual(counts, {"one_time_key_counts": {}})
        got = self.ok(self.call("bob", "POST", "/keys/query", body={"device_keys": {a.user: []}}))
        served = got["device_keys"][a.user][a.device]
        self.assertEqual(served["keys"], a.device_keys()["keys"])
        self.assertEqual(served["unsigned"]["device_display_name"], "Alice's laptop")
        one = self.ok(self.call("bob", "POST", "/keys/query", body={"device_keys": {a.user: ["OTHER"]}}))
        self.assertEqual(one["device_keys"][a.user], {})
        # Refusals: another user's or device's keys, a bad self-signature, malformed bodies.
        wrong_user = a.device_keys()
        wrong_user["user_id"] = "@bob:localhost"
        self.err(a.call("POST", "/keys/upload", body={"device_keys": wrong_user}), 400, "M_INVALID_PARAM")
        wrong_device = a.device_keys()
        wrong_device["device_id"] = "NOTMINE"
        self.err(a.call("POST", "/keys/upload", body={"device_keys": wrong_device}), 400, "M_INVALID_PARAM")
        forged = a.device_keys()
        forged["keys"][f"curve25519:{a.device}"] = b64(b"x" * 32)  # changed after signing
        self.err(a.call("POST", "/keys/upload", body={"device_keys": forged}), 400, "M_INVALID_PARAM")
        self.err(a.call("POST", "/keys/upload", body={"one_time_keys": []}), 400, "M_BAD_JSON")
        self.err(a.call("POST", "/keys/upload", body={"one_time_keys": {"nocolon": "x"}}), 400, "M_INVALID_PARAM")
        self.err(a.call("POST", "/keys/query", body={}), 400, "M_MISSING_PARAM")
        self.err(a.call("POST", "/keys/query", body={"device_keys": {"nobody": []}}), 400, "M_INVALID_PARAM")
        remote = self.ok(a.call("POST", "/keys/query", body={"device_keys": {"@x:elsewhere.test": []}}))
        self.assertIn("elsewhere.test", remote["failures"])

    def test_one_time_and_fallback_keys(self):
        b = self.login("bob")
        self.ok(b.call("POST", "/keys/upload", body={"device_keys": b.device_keys()}))
        counts = self.ok(b.call("POST", "/keys/upload", body={
            "one_time_keys": {"signed_curve25519:AAAA": b.otk(1), "signed_curve25519:AAAB": b.otk(2)},
            "fallback_keys": {"signed_curve25519:FFFF": dict(b.otk(9), fallback=True)}}))
        self.assertEqual(counts["one_time_key_counts"], {"signed_curve25519": 2})
        # The same key again is fine; other content under an existing ID is refused.
        self.ok(b.call("POST", "/keys/upload", body={"one_time_keys": {"signed_curve25519:AAAA": b.otk(1)}}))
        self.err(b.call("POST", "/keys/upload", body={"one_time_keys": {"signed_curve25519:AAAA": b.otk(7)}}),
                 400, "M_INVALID_PARAM")
        sync = self.sync(b)
        self.assertEqual(sync["device_one_time_keys_count"], {"signed_curve25519": 2})
        self.assertEqual(sync["device_unused_fallback_key_types"], ["signed_curve25519"])
        claim = {"one_time_keys": {b.user: {b.device: "signed_curve25519"}}}
        claimed = set()
        for _ in range(2):
            got = self.ok(self.call("carol", "POST", "/keys/claim", body=claim))["one_time_keys"][b.user][b.device]
            claimed |= set(got)
        self.assertEqual(claimed, {"signed_curve25519:AAAA", "signed_curve25519:AAAB"})
        # One-time keys gone: the fallback key, which stays available and is now "used".
        got = self.ok(self.call("carol", "POST", "/keys/claim", body=claim))["one_time_keys"][b.user][b.device]
        self.assertEqual(list(got), ["signed_curve25519:FFFF"])
        sync = self.sync(b)
        self.assertEqual(sync["device_one_time_keys_count"], {})
        self.assertEqual(sync["device_unused_fallback_key_types"], [])
        nothing = self.ok(self.call("carol", "POST", "/keys/claim",
                                    body={"one_time_keys": {b.user: {b.device: "curve25519"}}}))
        self.assertEqual(nothing["one_time_keys"], {})

    def test_device_lists_in_sync_and_keys_changes(self):
        room = self.create("alice", preset="public_chat")
        self.ok(self.call("carol", "POST", f"/rooms/{q(room)}/join", body={}))
        carol = self.login("carol")
        since = self.sync(carol)["next_batch"]
        poll = in_background(lambda: self.sync(carol, since=since, timeout=10000))
        time.sleep(0.3)
        a = self.login("alice")
        self.ok(a.call("POST", "/keys/upload", body={"device_keys": a.device_keys()}))
        woken = poll.join()
        self.assertIn(a.user, woken["device_lists"]["changed"])
        changes = self.ok(carol.call("GET", "/keys/changes", query={"from": since, "to": woken["next_batch"]}))
        self.assertIn(a.user, changes["changed"])
        # Carol leaves the only room she shares with alice: alice's client stops tracking her.
        a_since = self.sync(a)["next_batch"]
        self.ok(carol.call("POST", f"/rooms/{q(room)}/leave", body={}))
        self.assertIn(carol.user, self.sync(a, since=a_since)["device_lists"]["left"])
        self.err(carol.call("GET", "/keys/changes", query={"from": "nonsense", "to": since}), 400, "M_INVALID_PARAM")

    def test_deleting_a_device_deletes_its_keys_and_messages(self):
        room = self.create("alice", preset="public_chat")
        self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/join", body={}))
        watcher = self.login("bob")
        since = self.sync(watcher)["next_batch"]
        a = self.login("alice")
        self.ok(a.call("POST", "/keys/upload", body={"device_keys": a.device_keys(),
                                                     "one_time_keys": {"signed_curve25519:K1": a.otk(1)}}))
        self.ok(watcher.call("PUT", "/sendToDevice/m.test/del1", body={"messages": {a.user: {a.device: {"x": 1}}}}))
        since = self.sync(watcher, since=since)["next_batch"]
        auth = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": a.user}, "password": "password123"}
        status, _, challenge = self.call("alice", "DELETE", f"/devices/{q(a.device)}", body={})
        self.assertEqual(status, 401, challenge)
        self.ok(self.call("alice", "DELETE", f"/devices/{q(a.device)}", body={"auth": dict(auth, session=challenge["session"])}))
        keys = self.ok(watcher.call("POST", "/keys/query", body={"device_keys": {a.user: [a.device]}}))
        self.assertEqual(keys["device_keys"][a.user], {})
        claimed = self.ok(watcher.call("POST", "/keys/claim",
                                       body={"one_time_keys": {a.user: {a.device: "signed_curve25519"}}}))
        self.assertEqual(claimed["one_time_keys"], {})
        self.assertIn(a.user, self.sync(watcher, since=since)["device_lists"]["changed"])

    def test_send_to_device(self):
        a = self.login("alice")
        b1, b2 = self.login("bob"), self.login("bob")
        since1 = self.sync(b1)["next_batch"]
        since2 = self.sync(b2)["next_batch"]
        poll = in_background(lambda: self.sync(b1, since=since1, timeout=10000))
        time.sleep(0.3)
        body = {"messages": {b1.user: {b1.device: {"hello": 1}}}}
        self.ok(a.call("PUT", "/sendToDevice/m.test/txn1", body=body))
        self.ok(a.call("PUT", "/sendToDevice/m.test/txn1", body=body))  # a retry: delivered once
        first = poll.join()
        self.assertEqual(first["to_device"]["events"], [{"type": "m.test", "sender": a.user, "content": {"hello": 1}}])
        # Not acknowledged yet: the same token gets it again; the next one does not.
        self.assertEqual(len(self.sync(b1, since=since1)["to_device"]["events"]), 1)
        self.assertEqual(self.sync(b1, since=first["next_batch"])["to_device"]["events"], [])
        self.assertEqual(self.sync(b2, since=since2)["to_device"]["events"], [], "only the named device")
        # "*" reaches every device of the user.
        self.ok(a.call("PUT", "/sendToDevice/m.test/txn2", body={"messages": {b1.user: {"*": {"all": True}}}}))
        for dev, s in [(b1, first["next_batch"]), (b2, since2)]:
            self.assertEqual([e["content"] for e in self.sync(dev, since=s)["to_device"]["events"]], [{"all": True}])
        self.err(a.call("PUT", "/sendToDevice/m.test/txn3", body={"messages": []}), 400, "M_BAD_JSON")
        self.err(a.call("PUT", "/sendToDevice/m.test/txn4", body={"messages": {"bob": {}}}), 400, "M_INVALID_PARAM")

    def test_to_device_beyond_one_answer(self):
        a = self.login("alice")
        b = self.login("bob")
        since = self.sync(b)["next_batch"]
        messages = {"messages": {b.user: {b.device: {"n": 0}}}}
        for i in range(130):
            messages["messages"][b.user][b.device] = {"n": i}
            self.ok(a.call("PUT", f"/sendToDevice/m.count/t{i}", body=messages))
        first = self.sync(b, since=since)
        self.assertEqual(len(first["to_device"]["events"]), 100)
        self.assertIn("_", first["next_batch"])
        second = self.sync(b, since=first["next_batch"])
        self.assertEqual([e["content"]["n"] for e in second["to_device"]["events"]], list(range(100, 130)))
        self.assertEqual(self.sync(b, since=second["next_batch"])["to_device"]["events"], [])

    def test_cross_signing(self):
        c = self.login("carol")
        self.ok(c.call("POST", "/keys/upload", body={"device_keys": c.device_keys()}))
        master = nacl.signing.SigningKey.generate()
        self_signing = nacl.signing.SigningKey.generate()
        user_signing = nacl.signing.SigningKey.generate()
        mpub, spub, upub = (b64(bytes(k.verify_key)) for k in (master, self_signing, user_signing))
        master_key = {"user_id": c.user, "usage": ["master"], "keys": {f"ed25519:{mpub}": mpub}}
        ssk = sign({"user_id": c.user, "usage": ["self_signing"], "keys": {f"ed25519:{spub}": spub}},
                   c.user, f"ed25519:{mpub}", master)
        usk = sign({"user_id": c.user, "usage": ["user_signing"], "keys": {f"ed25519:{upub}": upub}},
                   c.user, f"ed25519:{mpub}", master)
        bad_ssk = {"user_id": c.user, "usage": ["self_signing"], "keys": {f"ed25519:{spub}": spub}}
        self.err(c.call("POST", "/keys/device_signing/upload",
                        body={"master_key": master_key, "self_signing_key": bad_ssk}), 400, "M_INVALID_PARAM")
        self.ok(c.call("POST", "/keys/device_signing/upload",
                       body={"master_key": master_key, "self_signing_key": ssk, "user_signing_key": usk}))
        mine = self.ok(c.call("POST", "/keys/query", body={"device_keys": {c.user: []}}))
        self.assertEqual(mine["master_keys"][c.user]["keys"], master_key["keys"])
        self.assertIn(c.user, mine["self_signing_keys"])
        self.assertIn(c.user, mine["user_signing_keys"])
        theirs = self.ok(self.call("alice", "POST", "/keys/query", body={"device_keys": {c.user: []}}))
        self.assertIn(c.user, theirs["self_signing_keys"])
        self.assertNotIn(c.user, theirs["user_signing_keys"], "only the owner sees the user-signing key")
        # Replacing them needs user-interactive auth.
        status, _, challenge = c.call("POST", "/keys/device_signing/upload", body={"master_key": master_key})
        self.assertEqual(status, 401, challenge)
        self.assertEqual(challenge["flows"], [{"stages": ["m.login.password"]}])
        password = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": c.user},
                    "session": challenge["session"]}
        status, _, wrong = c.call("POST", "/keys/device_signing/upload",
                                  body={"master_key": master_key, "auth": dict(password, password="nope")})
        self.assertEqual((status, wrong.get("errcode")), (401, "M_FORBIDDEN"))
        self.ok(c.call("POST", "/keys/device_signing/upload",
                       body={"master_key": master_key, "auth": dict(password, password="password123")}))
        # The self-signing key signs the device; a forged signature is reported per object.
        device = c.device_keys()
        signed = sign(dict(device), c.user, f"ed25519:{spub}", self_signing)
        result = self.ok(c.call("POST", "/keys/signatures/upload", body={c.user: {c.device: signed}}))
        self.assertEqual(result["failures"], {})
        served = self.ok(self.call("alice", "POST", "/keys/query", body={"device_keys": {c.user: [c.device]}}))
        self.assertIn(f"ed25519:{spub}", served["device_keys"][c.user][c.device]["signatures"][c.user])
        forged = sign(dict(device), c.user, f"ed25519:{spub}", nacl.signing.SigningKey.generate())
        result = self.ok(c.call("POST", "/keys/signatures/upload", body={c.user: {c.device: forged}}))
        self.assertIn(c.device, result["failures"][c.user])


if __name__ == "__main__":
    unittest.main()
