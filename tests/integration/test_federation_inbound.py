"""Issue 14 (inbound): another server's signed requests to the running binary. PUT /send hands PDUs to the
event pipeline (accepted ones reach local clients through /sync), answers per PDU and again the same for a
retried transaction; the retrieval endpoints answer a server in the room and refuse one that is not.

The other servers are real key servers on loopback (fake_remote.KeyServer, certificates from a throwaway
test CA): the server fetches their keys from /_matrix/key/v2/server over HTTPS, as it would on the
federation, and keeps them."""
import json
import re
import shutil
import socket
import tempfile
import time
import unittest
import urllib.parse

import nacl.signing

from fake_remote import KEY_PATH, KeyServer, RemoteServer, b64
from harness import HeraldServer, MatrixAssertions, in_background
from tls_ca import TestCA


def q(s):
    return urllib.parse.quote(s, safe="")


def wait_for_log(hs, text, timeout=5):
    """The log is written asynchronously: waits for `text` to appear in it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in hs.read_log():
            return True
        time.sleep(0.05)
    return False


class FederationInboundTest(MatrixAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="herald-it-inbound-")
        cls.ca = TestCA(cls.tmp)
        cls.leaf = cls.ca.issue("remotes")
        cls.key_servers = []
        try:
            # Rob's server, "localhost:<port>"; and a server with nobody in the room, named by its IP address.
            cls.remote = cls.key_server().remote()
            cls.other = cls.key_server(host="127.0.0.1").remote()
            cls.hs = HeraldServer(metrics_listener=True, extra_yaml=cls.federation_yaml("")).start()
        except BaseException:
            cls.tearDownClass()
            raise
        cls.rob = cls.remote.user("rob")

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "hs", None):
            cls.hs.stop()
            cls.hs.cleanup()
        for key_server in cls.key_servers:
            key_server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def key_server(cls, host="localhost"):
        server = KeyServer(cls.leaf, host=host)
        cls.key_servers.append(server)
        return server

    @classmethod
    def federation_yaml(cls, extra=""):
        """The server under test trusts the test CA and may reach loopback (where the key servers are)."""
        return (f"federation_custom_ca_list: [{json.dumps(cls.ca.root_path)}]\n"
                'ip_range_whitelist: ["127.0.0.0/8", "::1/128"]\n' + extra)

    def setUp(self):
        self.alice = self.hs.register(f"alice{self.id().rsplit('_', 1)[-1][:8]}")["access_token"]
        self.room = self.ok(self.hs.client("POST", "/createRoom", token=self.alice,
                                           body={"preset": "public_chat", "room_alias_name": self.id().rsplit(".", 1)[-1]}))[
            "room_id"]
        self.ts = int(time.time() * 1000)  # the keys fetched are valid for an hour from now
        self.txn = 0

    # helpers ----------------------------------------------------------------------------------------

    def fed(self, method, path, body=None, query=None, signer=None, destination="localhost"):
        uri = path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
        header = (signer or self.remote).x_matrix(method, uri, destination, body)
        return self.hs.request(method, path, body=body, query=query, headers={"Authorization": header})

    def send_txn(self, pdus, txn_id=None, signer=None):
        signer = signer or self.remote
        if txn_id is None:
            self.txn += 1
            txn_id = f"{self.id()}-{self.txn}"
        body = {"origin": signer.server_name, "origin_server_ts": self.ts, "pdus": pdus, "edus": [
            {"edu_type": "m.typing", "content": {"room_id": self.room, "user_id": signer.user("rob"), "typing": True}}]}
        return self.fed("PUT", f"/_matrix/federation/v1/send/{q(txn_id)}", body=body, signer=signer)

    def state_id(self, type_, key=""):
        for e in self.ok(self.hs.client("GET", f"/rooms/{q(self.room)}/state", token=self.alice)):
            if e["type"] == type_ and e["state_key"] == key:
                return e["event_id"]
        return None

    def latest(self):
        body = self.ok(self.hs.client("GET", f"/rooms/{q(self.room)}/messages", token=self.alice,
                                      query={"dir": "b", "limit": 1}))
        return body["chunk"][0]["event_id"]

    def pdu(self, type_, content, auth, state_key=None, prev=None, remote=None):
        self.ts += 1000
        return (remote or self.remote).pdu(self.room, type_, content, prev or [self.latest()], auth, self.ts, state_key)

    def rob_joins(self, remote=None):
        remote = remote or self.remote
        event_id, join = self.pdu("m.room.member", {"membership": "join"},
                                  [self.state_id("m.room.power_levels"), self.state_id("m.room.join_rules")],
                                  state_key=remote.user("rob"), remote=remote)
        self.assertEqual(self.ok(self.send_txn([join], signer=remote)), {"pdus": {event_id: {}}})
        return event_id

    def rob_says(self, text, remote=None):
        remote = remote or self.remote
        return self.pdu("m.room.message", {"msgtype": "m.text", "body": text},
                        [self.state_id("m.room.power_levels"), self.state_id("m.room.member", remote.user("rob"))],
                        remote=remote)

    def metric(self, outcome):
        status, _, body = self.hs.request("GET", "/metrics", port=self.hs.other_ports[0])
        self.assertEqual(status, 200)
        m = re.search(r'herald_federation_inbound_pdus_total\{outcome="%s"\} (\d+)' % outcome, body)
        return int(m.group(1)) if m else 0

    # /send ------------------------------------------------------------------------------------------

    def test_an_accepted_pdu_wakes_a_local_members_sync(self):
        self.rob_joins()
        since = self.ok(self.hs.client("GET", "/sync", token=self.alice, query={"timeout": 0}))["next_batch"]
        accepted_before = self.metric("accepted")
        waiting = in_background(lambda: self.hs.client("GET", "/sync", token=self.alice,
                                                       query={"since": since, "timeout": 10000}))
        event_id, message = self.rob_says("hello from afar")
        self.assertEqual(self.ok(self.send_txn([message])), {"pdus": {event_id: {}}})
        body = self.ok(waiting.join(15))
        timeline = body["rooms"]["join"][self.room]["timeline"]["events"]
        self.assertIn(event_id, [e["event_id"] for e in timeline])
        self.assertEqual([e["content"]["body"] for e in timeline if e["event_id"] == event_id], ["hello from afar"])
        self.assertEqual(self.metric("accepted"), accepted_before + 1)

    def test_a_retried_transaction_gets_the_same_answer_and_is_not_handled_again(self):
        self.rob_joins()
        event_id, message = self.rob_says("once")
        first = self.ok(self.send_txn([message], txn_id="same-txn"))
        self.assertEqual(first, {"pdus": {event_id: {}}})
        accepted = self.metric("accepted")
        _, another = self.rob_says("not looked at")
        self.assertEqual(self.ok(self.send_txn([another], txn_id="same-txn")), first)
        self.assertEqual(self.metric("accepted"), accepted)
        chunk = self.ok(self.hs.client("GET", f"/rooms/{q(self.room)}/messages", token=self.alice,
                                       query={"dir": "b", "limit": 10}))["chunk"]
        bodies = [e["content"].get("body") for e in chunk if e["type"] == "m.room.message"]
        self.assertEqual(bodies, ["once"])

    def test_bad_signatures_are_refused_with_401(self):
        self.rob_joins()
        _, message = self.rob_says("x")
        impostor = RemoteServer(self.remote.server_name)  # the published key ID, another key
        self.err(self.send_txn([message], signer=impostor), 401, "M_UNAUTHORIZED")
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))  # bound, never listening: a server whose keys cannot be had
            unknown = RemoteServer(f"localhost:{closed.getsockname()[1]}")
            self.err(self.send_txn([message], signer=unknown), 401, "M_UNAUTHORIZED")
        self.err(self.fed("GET", "/_matrix/federation/v1/query/profile", query={"user_id": "@x:localhost"},
                          destination="elsewhere.test"), 401, "M_UNAUTHORIZED")
        self.err(self.hs.request("PUT", "/_matrix/federation/v1/send/unsigned", body={"pdus": []}), 401, "M_UNAUTHORIZED")
        self.assertTrue(wait_for_log(self.hs, "federation request refused route=/_matrix/federation/v1/send/{txnId}"))

    def test_keys_are_fetched_from_the_origin_once_and_a_pdu_signed_by_an_unpublished_key_is_dropped(self):
        keys = self.key_server()  # a server the homeserver has never heard of
        self.addCleanup(keys.stop)
        newcomer = keys.remote()
        self.assertEqual(keys.key_fetches(), 0)
        self.rob_joins(newcomer)
        self.assertEqual(keys.key_fetches(), 1, keys.requests)
        self.assertIn((KEY_PATH, newcomer.server_name), keys.requests, "Host: the server name with its port")
        event_id, message = self.rob_says("known key", remote=newcomer)
        self.assertEqual(self.ok(self.send_txn([message], signer=newcomer)), {"pdus": {event_id: {}}})
        self.assertEqual(keys.key_fetches(), 1, "the second request from the origin fetched its key again")

        # Signed by a key ID the key server does not publish: dropped, with an error entry, not rejected.
        rogue = RemoteServer(newcomer.server_name, nacl.signing.SigningKey.generate(), "ed25519:rogue")
        dropped_before, accepted_before = self.metric("dropped"), self.metric("accepted")
        rogue_id, rogue_pdu = self.rob_says("unpublished key", remote=rogue)
        body = self.ok(self.send_txn([rogue_pdu], signer=newcomer))
        self.assertIn("error", body["pdus"][rogue_id], body)
        self.assertEqual(self.metric("dropped"), dropped_before + 1)
        self.assertEqual(self.metric("accepted"), accepted_before)
        self.err(self.hs.client("GET", f"/rooms/{q(self.room)}/event/{q(rogue_id)}", token=self.alice), 404, "M_NOT_FOUND")

    def test_a_bad_content_hash_is_stored_redacted(self):
        self.rob_joins()
        event_id, message = self.rob_says("original")
        message["content"]["body"] = "tampered"  # the signature covers the redacted form, so it still verifies
        self.assertEqual(self.ok(self.send_txn([message])), {"pdus": {event_id: {}}})
        event = self.ok(self.hs.client("GET", f"/rooms/{q(self.room)}/event/{q(event_id)}", token=self.alice))
        self.assertEqual(event["content"], {})

    def test_unauthorised_and_forged_pdus_get_an_error_entry(self):
        rejected_before, dropped_before = self.metric("rejected"), self.metric("dropped")
        # Rob has not joined: his message is not allowed.
        event_id, message = self.pdu("m.room.message", {"msgtype": "m.text", "body": "let me in"},
                                     [self.state_id("m.room.power_levels")])
        forged_id, forged = self.pdu("m.room.member", {"membership": "join"},
                                     [self.state_id("m.room.power_levels"), self.state_id("m.room.join_rules")],
                                     state_key=self.rob)
        forged["signatures"][self.remote.server_name]["ed25519:k1"] = b64(bytes(64))
        body = self.ok(self.send_txn([message, forged]))
        self.assertIn("error", body["pdus"][event_id])
        self.assertIn("error", body["pdus"][forged_id])
        self.assertEqual(self.metric("rejected"), rejected_before + 1)
        self.assertEqual(self.metric("dropped"), dropped_before + 1)

    def test_the_server_acl_refuses_the_origin(self):
        self.rob_joins()
        # ACLs name hosts, ports excluded: denying "localhost" bans localhost:<any port>.
        self.ok(self.hs.client("PUT", f"/rooms/{q(self.room)}/state/m.room.server_acl/", token=self.alice,
                               body={"allow": ["*"], "deny": ["localhost"]}))
        event_id, message = self.rob_says("banned")
        body = self.ok(self.send_txn([message]))
        self.assertIn("server ACL", body["pdus"][event_id]["error"])
        self.err(self.fed("GET", f"/_matrix/federation/v1/state_ids/{q(self.room)}", query={"event_id": self.latest()}),
                 403, "M_FORBIDDEN")

    def test_limits(self):
        self.err(self.send_txn([{}] * 51), 400, "M_TOO_LARGE")

    def test_a_transaction_may_be_larger_than_a_client_request(self):
        # The server's body limit (max_request_body_bytes, 64 KiB by default) is for client requests; /send
        # takes up to 50 PDUs of 64 KiB each.
        self.rob_joins()
        messages = [self.rob_says("x" * 4000 + str(i)) for i in range(30)]
        body = self.ok(self.send_txn([pdu for _, pdu in messages]))
        for event_id, _ in messages:
            self.assertEqual(body["pdus"][event_id], {}, event_id)
        self.err(self.hs.client("PUT", f"/rooms/{q(self.room)}/send/m.room.message/big", token=self.alice,
                                body={"msgtype": "m.text", "body": "x" * 70000}), 413, "M_TOO_LARGE")

    def test_each_origin_is_rate_limited(self):
        hs = HeraldServer(rate_limits_enabled=True, rate_limits_yaml="  federation: {per_second: 0.001, burst: 2}",
                          extra_yaml=self.federation_yaml()).start()
        self.addCleanup(hs.cleanup)
        self.addCleanup(hs.stop)

        def profile():
            path, query = "/_matrix/federation/v1/query/profile", {"user_id": "@nobody:localhost"}
            uri = path + "?" + urllib.parse.urlencode(query)
            return hs.request("GET", path, query=query,
                              headers={"Authorization": self.remote.x_matrix("GET", uri, "localhost", None)})

        self.err(profile(), 404, "M_NOT_FOUND")
        self.err(profile(), 404, "M_NOT_FOUND")
        status, headers, body = profile()
        self.assertEqual((status, body["errcode"]), (429, "M_LIMIT_EXCEEDED"), body)
        self.assertGreater(body["retry_after_ms"], 0)
        self.assertTrue(wait_for_log(hs, f"origin={self.remote.server_name} status=429 reason=rate limited"))

    # retrieval ----------------------------------------------------------------------------------------

    def test_retrieval_endpoints_answer_a_server_in_the_room(self):
        join_id = self.rob_joins()
        event_id, message = self.rob_says("fetch me")
        self.ok(self.send_txn([message]))
        create_id = self.state_id("m.room.create")
        v1 = "/_matrix/federation/v1"

        body = self.ok(self.fed("GET", f"{v1}/event/{q(event_id)}"))
        self.assertEqual(body["origin"], "localhost")
        self.assertEqual(body["pdus"][0]["content"]["body"], "fetch me")
        self.assertNotIn("event_id", body["pdus"][0])

        ids = self.ok(self.fed("GET", f"{v1}/state_ids/{q(self.room)}", query={"event_id": event_id}))
        self.assertIn(join_id, ids["pdu_ids"])
        self.assertIn(create_id, ids["pdu_ids"])
        self.assertIn(create_id, ids["auth_chain_ids"])
        state = self.ok(self.fed("GET", f"{v1}/state/{q(self.room)}", query={"event_id": event_id}))
        self.assertEqual(len(state["pdus"]), len(ids["pdu_ids"]))
        self.assertEqual(len(state["auth_chain"]), len(ids["auth_chain_ids"]))

        chain = self.ok(self.fed("GET", f"{v1}/event_auth/{q(self.room)}/{q(event_id)}"))["auth_chain"]
        self.assertIn("m.room.power_levels", [e["type"] for e in chain])

        missing = self.ok(self.fed("POST", f"{v1}/get_missing_events/{q(self.room)}",
                                   body={"earliest_events": [create_id], "latest_events": [event_id], "limit": 10}))
        self.assertEqual(missing["events"][-1]["state_key"], self.rob, "oldest first, ending with the event before the latest")
        back = self.ok(self.fed("GET", f"{v1}/backfill/{q(self.room)}", query={"v": event_id, "limit": 2}))
        self.assertEqual([p["type"] for p in back["pdus"]], ["m.room.message", "m.room.member"])

        alias = "#" + self.id().rsplit(".", 1)[-1] + ":localhost"
        directory = self.ok(self.fed("GET", f"{v1}/query/directory", query={"room_alias": alias}))
        self.assertEqual(directory, {"room_id": self.room, "servers": ["localhost", self.remote.server_name]})
        self.err(self.fed("GET", f"{v1}/query/directory", query={"room_alias": "#nope:localhost"}), 404, "M_NOT_FOUND")

        me = self.ok(self.hs.client("GET", "/account/whoami", token=self.alice))["user_id"]
        self.ok(self.hs.client("PUT", f"/profile/{q(me)}/displayname", token=self.alice, body={"displayname": "Alice"}))
        profile = self.ok(self.fed("GET", f"{v1}/query/profile", query={"user_id": me, "field": "displayname"}))
        self.assertEqual(profile, {"displayname": "Alice"})
        self.err(self.fed("GET", f"{v1}/query/profile", query={"user_id": "@ghost:localhost"}), 404, "M_NOT_FOUND")
        # Any field may be asked for; one this server does not keep is not found.
        self.err(self.fed("GET", f"{v1}/query/profile", query={"user_id": me, "field": "m.tz"}), 404, "M_NOT_FOUND")

        self.err(self.fed("GET", f"{v1}/event/{q('$unknown')}"), 404, "M_NOT_FOUND")
        self.err(self.fed("GET", f"{v1}/state_ids/{q(self.room)}", query={"event_id": "$unknown"}), 404, "M_NOT_FOUND")
        self.err(self.fed("GET", f"{v1}/state_ids/{q('!unknown')}", query={"event_id": event_id}), 404, "M_NOT_FOUND")

    def test_retrieval_is_refused_to_a_server_without_visibility(self):
        self.rob_joins()
        event_id, message = self.rob_says("not for the other server")
        self.ok(self.send_txn([message]))
        v1 = "/_matrix/federation/v1"
        as_other = {"signer": self.other}
        self.err(self.fed("GET", f"{v1}/event/{q(event_id)}", **as_other), 403, "M_FORBIDDEN")
        self.err(self.fed("GET", f"{v1}/state_ids/{q(self.room)}", query={"event_id": event_id}, **as_other),
                 403, "M_FORBIDDEN")
        self.err(self.fed("GET", f"{v1}/state/{q(self.room)}", query={"event_id": event_id}, **as_other),
                 403, "M_FORBIDDEN")
        self.err(self.fed("GET", f"{v1}/event_auth/{q(self.room)}/{q(event_id)}", **as_other), 403, "M_FORBIDDEN")
        self.err(self.fed("GET", f"{v1}/backfill/{q(self.room)}", query={"v": event_id, "limit": 5}, **as_other),
                 403, "M_FORBIDDEN")
        self.err(self.fed("POST", f"{v1}/get_missing_events/{q(self.room)}", body={
            "earliest_events": [], "latest_events": [event_id]}, **as_other), 403, "M_FORBIDDEN")
        # Once the room's history is world_readable, the other server may read what is sent from then on (and
        # still not what was sent before, when the history was shared).
        self.ok(self.hs.client("PUT", f"/rooms/{q(self.room)}/state/m.room.history_visibility/", token=self.alice,
                               body={"history_visibility": "world_readable"}))
        later_id, later = self.rob_says("for everyone")
        self.ok(self.send_txn([later]))
        self.ok(self.fed("GET", f"{v1}/event/{q(later_id)}", **as_other))
        self.err(self.fed("GET", f"{v1}/event/{q(event_id)}", **as_other), 403, "M_FORBIDDEN")


if __name__ == "__main__":
    unittest.main()
