"""Issue 12: what a hostile client finds must stay fixed: no membership leak to non-members, one validation
of identifiers and sizes at every entry point, and HTTP edge cases answered with the right status."""
import http.client
import socket
import time
import unittest
import urllib.parse

from harness import HeraldServer, MatrixAssertions, UsersOnOneServer, raw_exchange


def q(s):
    return urllib.parse.quote(s, safe="")


class HostileInputTest(UsersOnOneServer):
    user_names = ["alice", "bob", "mallory"]

    def test_non_members_learn_nothing_about_targets(self):
        room = self.create("alice")
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/invite", body={"user_id": self.uid("bob")}))
        answers = set()
        for target in [self.uid("bob"), self.uid("alice"), "@nobody:localhost"]:  # invited, joined, never seen
            for action in ["kick", "unban", "ban"]:
                status, _, body = self.call("mallory", "POST", f"/rooms/{q(room)}/{action}", body={"user_id": target})
                answers.add((status, body.get("errcode"), body.get("error")))
        self.assertEqual(len(answers), 1, answers)
        self.assertEqual(next(iter(answers))[:2], (403, "M_FORBIDDEN"))

    def test_identifiers_are_validated_everywhere(self):
        room = self.create("alice")
        for bad in ["@b\nob:localhost", "@:localhost", "@a b:localhost", "@\u00e9:localhost", "@x\x7f:localhost"]:
            self.err(self.call("alice", "POST", f"/rooms/{q(room)}/invite", body={"user_id": bad}), 400,
                     "M_INVALID_PARAM")
        self.err(self.call("alice", "PUT", f"/directory/room/{q('#a' + chr(0) + 'b:localhost')}", body={"room_id": room}),
                 400, "M_INVALID_PARAM")
        for entry in [{"type": "x" * 256, "state_key": "", "content": {}},
                      {"type": "org.example", "state_key": "k" * 300, "content": {}}]:
            self.err(self.call("alice", "POST", "/createRoom", body={"initial_state": [entry]}), 400, "M_INVALID_PARAM")
        status, _, body = self.hs.client("POST", "/register", body={"username": "u" * 300, "password": "pw-123456",
                                                                    "auth": {"type": "m.login.dummy"}})
        self.assertEqual((status, body.get("errcode")), (400, "M_INVALID_USERNAME"), body)
        self.err(self.call("alice", "GET", f"/rooms/{q(room)}/messages", query={"limit": "1e3"}), 400, "M_INVALID_PARAM")

    def test_json_followed_by_nul_is_not_json(self):
        self.err(self.call("alice", "POST", "/createRoom", raw=b"{}\x00garbage"), 400, "M_NOT_JSON")

    def test_http_edge_cases_get_their_status(self):
        port = self.hs.port
        gzip = raw_exchange(port, b"POST /_matrix/client/v3/login HTTP/1.1\r\nHost: x\r\n"
                                  b"Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
        self.assertTrue(gzip.startswith(b"HTTP/1.1 501"), gzip[:80])
        huge = raw_exchange(port, b"GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
        self.assertTrue(huge.startswith(b"HTTP/1.1 431"), huge[:80])
        bad_length = raw_exchange(port, b"POST /_matrix/client/v3/login HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n{}")
        self.assertTrue(bad_length.startswith(b"HTTP/1.1 400"), bad_length[:80])
        # The server is still fine.
        self.ok(self.hs.request("GET", "/_matrix/client/versions"))


class DescriptorExhaustionTest(MatrixAssertions, unittest.TestCase):
    """A flood of idle connections under a low open-file limit: open connections keep being served, the log
    is not flooded, and the server serves again once the flood is gone."""

    def test_a_connection_flood_does_not_take_the_server_down(self):
        hs = HeraldServer(command_prefix=["prlimit", "--nofile=256:256"]).start()
        flood = []
        try:
            kept = http.client.HTTPConnection("127.0.0.1", hs.port, timeout=10)
            kept.request("GET", "/_matrix/client/versions")
            self.assertEqual(kept.getresponse().read() and 200, 200)
            for _ in range(400):
                try:
                    flood.append(socket.create_connection(("127.0.0.1", hs.port), timeout=5))
                except OSError:
                    break
            time.sleep(1.0)
            kept.request("GET", "/_matrix/client/versions")
            response = kept.getresponse()
            self.assertEqual(response.status, 200)
            response.read()
            log = hs.read_log()
            self.assertIn("over the connection limits", log)
            self.assertLess(log.count("connection refused") + log.count("accept failed"), 10, "the log is throttled")
            for s in flood:
                s.close()
            flood.clear()
            time.sleep(0.5)
            self.ok(hs.request("GET", "/_matrix/client/versions"))
        finally:
            for s in flood:
                s.close()
            hs.stop()
            hs.cleanup()


class FailedLoginLockoutTest(MatrixAssertions, unittest.TestCase):
    """Wrong passwords from one address do not lock the real user out at another."""

    def test_attackers_failures_do_not_lock_the_victim_out(self):
        hs = HeraldServer(rate_limits_enabled=True, rate_limits_yaml="  login: {per_second: 0.01, burst: 3}").start()
        try:
            hs.register("victim", password="the real one")
            body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "victim"}}
            for _ in range(3):
                self.err(hs.request("POST", "/_matrix/client/v3/login", body=dict(body, password="guess"),
                                    source="127.0.0.2"), 403, "M_FORBIDDEN")
            self.err(hs.request("POST", "/_matrix/client/v3/login", body=dict(body, password="guess"),
                                source="127.0.0.2"), 429, "M_LIMIT_EXCEEDED")
            # The attacker's address is limited even with the right password ...
            self.err(hs.request("POST", "/_matrix/client/v3/login", body=dict(body, password="the real one"),
                                source="127.0.0.2"), 429, "M_LIMIT_EXCEEDED")
            # ... the victim, elsewhere, is not.
            self.ok(hs.request("POST", "/_matrix/client/v3/login", body=dict(body, password="the real one"),
                               source="127.0.0.3"))
        finally:
            hs.stop()
            hs.cleanup()


if __name__ == "__main__":
    unittest.main()
