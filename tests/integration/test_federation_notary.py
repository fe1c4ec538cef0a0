"""Issue 14: two Herald homeservers over TLS (test CA, `localhost:<port>` names) fetch and verify each other's
signing keys directly, and one fetches a third server's keys through the other as its trusted notary
(`trusted_key_servers`), checking the notary's signature and the origin's."""
import json
import shutil
import tempfile
import unittest
import urllib.parse

import nacl.signing

from fake_remote import KeyServer, signed_by, unb64
from harness import start_federation_servers
from tls_ca import TestCA


def q(s):
    return urllib.parse.quote(s, safe="")


class FederationNotaryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="herald-it-notary-")
        cls.ca = TestCA(cls.tmp)
        cls.third = KeyServer(cls.ca.issue("third", directory=cls.tmp))
        cls.servers = []
        try:
            (cls.b,) = start_federation_servers(cls.ca, count=1)
            cls.servers.append(cls.b)
            b_key_id, b_key = cls.own_key(cls.b)
            notary = {"server_name": cls.b.server_name, "verify_keys": {b_key_id: b_key}}
            (cls.a,) = start_federation_servers(cls.ca, count=1, extra_yaml="trusted_key_servers: " + json.dumps([notary]))
            cls.servers.append(cls.a)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers:
            s.stop()
            s.cleanup()
        cls.third.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @staticmethod
    def own_key(server):
        status, _, body = server.federation_request("GET", "/_matrix/key/v2/server")
        assert status == 200, body
        key_id, entry = next(iter(body["verify_keys"].items()))
        return key_id, entry["key"]

    def verify_key(self, server):
        key_id, key = self.own_key(server)
        return key_id, nacl.signing.VerifyKey(unb64(key))

    def query(self, asking, server_name):
        status, _, body = asking.federation_request("GET", "/_matrix/key/v2/query/" + q(server_name))
        self.assertEqual(status, 200, body)
        return body["server_keys"]

    def assert_signed(self, obj, server):
        key_id, key = self.verify_key(server)
        self.assertTrue(signed_by(obj, server.server_name, key_id, key), obj)

    def test_each_fetches_and_verifies_the_others_keys(self):
        for asking, other in ((self.a, self.b), (self.b, self.a)):
            (obj,) = self.query(asking, other.server_name)
            self.assertEqual(obj["server_name"], other.server_name)
            self.assert_signed(obj, other)   # the origin's own signature, verified by the asking server
            self.assert_signed(obj, asking)  # and the asking server's, as a notary adds it

    def test_a_third_servers_keys_come_through_the_trusted_notary(self):
        (obj,) = self.query(self.a, self.third.server_name)
        self.assertEqual(obj["server_name"], self.third.server_name)
        self.assertTrue(signed_by(obj, self.third.server_name, self.third.key_id, self.third.signing_key.verify_key))
        self.assert_signed(obj, self.a)
        self.assertNotIn(self.b.server_name, obj["signatures"], "only the origin's signature is passed on")
        self.assertEqual(self.third.key_fetches(), 1, "the third server was asked once: by the notary")
        # The notary (b) fetched it: with the third server gone, b still answers from its cache.
        self.third.stop()
        (cached,) = self.query(self.b, self.third.server_name)
        self.assertEqual(cached["verify_keys"], obj["verify_keys"])


if __name__ == "__main__":
    unittest.main()
