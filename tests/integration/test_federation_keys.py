"""Remote server keys through the real binary: the notary endpoints fetch a key server's keys over TLS
(a throwaway test CA, tls_ca.py), verify and countersign them, keep them across a restart, and
the IP range guard refuses a server name that resolves to loopback without any connection being made
unless ip_range_whitelist allows it (issue 14: SSRF)."""
import json
import shutil
import tempfile
import time
import unittest

import nacl.signing

from fake_remote import KeyServer, signed_by, unb64
from harness import HeraldServer
from tls_ca import TestCA


class FederationKeysTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="herald-it-ca-")
        ca = TestCA(cls.tmp)
        cls.key_server = KeyServer(ca.issue("keys"), key_id="ed25519:t1")
        cls.rotating_server = KeyServer(ca.issue("rotating"), key_id="ed25519:t1")
        trust_ca = "federation_custom_ca_list: [%s]" % json.dumps(ca.root_path)
        cls.guarded = HeraldServer(server_name="guarded.test", extra_yaml=trust_ca).start()
        cls.notary = HeraldServer(server_name="notary.test",
                                  extra_yaml=trust_ca + '\nip_range_whitelist: ["127.0.0.0/8"]').start()

    @classmethod
    def tearDownClass(cls):
        for s in (cls.guarded, cls.notary):
            s.stop()
            s.cleanup()
        cls.key_server.stop()
        cls.rotating_server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def notary_key(self):
        status, _, body = self.notary.request("GET", "/_matrix/key/v2/server")
        self.assertEqual(status, 200)
        key_id, entry = next(iter(body["verify_keys"].items()))
        return key_id, nacl.signing.VerifyKey(unb64(entry["key"]))

    def assert_notarised(self, obj):
        self.assertEqual(obj["server_name"], self.key_server.server_name)
        self.assertTrue(signed_by(obj, self.key_server.server_name, self.key_server.key_id,
                                  self.key_server.signing_key.verify_key), obj)
        key_id, verify_key = self.notary_key()
        self.assertTrue(signed_by(obj, "notary.test", key_id, verify_key), obj)

    def test_1_loopback_is_refused_without_a_connection(self):
        before = self.key_server.accepted
        status, _, body = self.guarded.request("GET", "/_matrix/key/v2/query/" + self.key_server.server_name)
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"server_keys": []})
        status, _, body = self.guarded.request("POST", "/_matrix/key/v2/query",
                                               body={"server_keys": {self.key_server.server_name: {}}})
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"server_keys": []})
        time.sleep(0.2)
        self.assertEqual(self.key_server.accepted, before, "a connection reached the refused address")
        self.assertIn("ip_range_blacklist", self.guarded.read_log())

    def test_2_whitelisted_loopback_is_fetched_verified_and_countersigned(self):
        status, _, body = self.notary.request("GET", "/_matrix/key/v2/query/" + self.key_server.server_name)
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["server_keys"]), 1, body)
        self.assert_notarised(body["server_keys"][0])
        self.assertGreaterEqual(self.key_server.accepted, 1)
        # Host header: the server name with its explicit port (federation.md §2).
        self.assertIn(("/_matrix/key/v2/server", self.key_server.server_name), self.key_server.requests)

        status, _, body = self.notary.request(
            "POST", "/_matrix/key/v2/query",
            body={"server_keys": {self.key_server.server_name: {self.key_server.key_id: {}}}})
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["server_keys"]), 1, body)
        self.assert_notarised(body["server_keys"][0])

    def test_3_own_keys_and_unknown_servers(self):
        status, _, body = self.notary.request("GET", "/_matrix/key/v2/query/notary.test")
        self.assertEqual(status, 200)
        key_id, verify_key = self.notary_key()
        self.assertTrue(signed_by(body["server_keys"][0], "notary.test", key_id, verify_key))
        status, _, body = self.notary.request("POST", "/_matrix/key/v2/query", body={"server_keys": {}})
        self.assertEqual((status, body), (200, {"server_keys": []}))
        status, _, body = self.notary.request("POST", "/_matrix/key/v2/query", body={"server_keys": []})
        self.assertEqual(status, 400)

    def test_4_cached_keys_are_served_when_the_origin_is_down_even_after_a_restart(self):
        status, _, body = self.notary.request("GET", "/_matrix/key/v2/query/" + self.key_server.server_name)
        self.assertEqual(len(body["server_keys"]), 1, body)
        self.key_server.stop()
        far = int(time.time() * 1000) + 10 * 24 * 3600 * 1000  # forces a refetch, which fails
        status, _, body = self.notary.request("GET", "/_matrix/key/v2/query/" + self.key_server.server_name,
                                              query={"minimum_valid_until_ts": far})
        self.assertEqual(status, 200)
        self.assertEqual(len(body["server_keys"]), 1, body)
        self.notary.stop()
        self.notary.start()
        status, _, body = self.notary.request("GET", "/_matrix/key/v2/query/" + self.key_server.server_name)
        self.assertEqual(status, 200)
        self.assertEqual(len(body["server_keys"]), 1, "the keys did not survive the restart")
        self.assert_notarised(body["server_keys"][0])
        self.assertIn("server keys loaded objects=1", self.notary.read_log())

    def test_5_notary_answers_per_key_id_and_takes_minimum_valid_until_ts_as_given(self):
        """SyTest 50federation/01keys.pl: an expired key is served when the asker's minimum allows it
        (minimum_valid_until_ts 0 is not "now"), the key object asked for by ID is kept even when the
        origin stops publishing that key, and GET /_matrix/key/v2/query/{serverName}/{keyId} exists."""
        origin = self.rotating_server
        name = origin.server_name
        expired = int(time.time() * 1000) - 24 * 3600 * 1000
        origin.key_id, origin.valid_until_ts = "ed25519:key_1", expired
        key_1 = origin.signing_key

        def post(key_id, minimum):
            status, _, body = self.notary.request(
                "POST", "/_matrix/key/v2/query",
                body={"server_keys": {name: {key_id: {"minimum_valid_until_ts": minimum}}}})
            self.assertEqual(status, 200, body)
            return body["server_keys"]

        found = post("ed25519:key_1", 0)
        self.assertEqual([(o["server_name"], list(o["verify_keys"])) for o in found], [(name, ["ed25519:key_1"])])
        self.assertEqual(found[0]["valid_until_ts"], expired)
        fetches = len(origin.requests)
        self.assertEqual(fetches, 1)
        # Minimum 0: the cached expired key will do, no refetch.
        self.assertEqual(len(post("ed25519:key_1", 0)), 1)
        self.assertEqual(len(origin.requests), fetches)

        # The origin now publishes another key only; a minimum of now makes the notary ask it again.
        origin.signing_key = nacl.signing.SigningKey.generate()
        origin.key_id, origin.valid_until_ts = "ed25519:key_2", expired + 1000
        found = post("ed25519:key_1", int(time.time() * 1000))
        self.assertEqual(len(origin.requests), fetches + 1)
        self.assertEqual([list(o["verify_keys"]) for o in found], [["ed25519:key_1"]], found)
        # Asked with the old minimum, key_1's object is still there, from the cache.
        found = post("ed25519:key_1", expired)
        self.assertEqual([list(o["verify_keys"]) for o in found], [["ed25519:key_1"]], found)
        self.assertTrue(signed_by(found[0], name, "ed25519:key_1", key_1.verify_key), found)
        self.assertEqual(len(origin.requests), fetches + 1)

        status, _, body = self.notary.request("GET", f"/_matrix/key/v2/query/{name}/ed25519:key_1",
                                              query={"minimum_valid_until_ts": expired})
        self.assertEqual(status, 200, body)
        self.assertEqual([list(o["verify_keys"]) for o in body["server_keys"]], [["ed25519:key_1"]], body)
        key_id, verify_key = self.notary_key()
        self.assertTrue(signed_by(body["server_keys"][0], "notary.test", key_id, verify_key))
        self.assertEqual(len(origin.requests), fetches + 1)


if __name__ == "__main__":
    unittest.main()
