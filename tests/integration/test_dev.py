"""`herald dev`: the homeserver and the identity server together on their fixed ports, trusting each other,
with mail going to the outbox - the third-party invite story works out of the box."""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

from harness import HERALD_BIN


def port_busy(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def call(method, url, body=None, token=None):
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@unittest.skipIf(port_busy(8008) or port_busy(8090), "ports 8008/8090 are taken (is `herald dev` running?)")
class DevTest(unittest.TestCase):
    def test_dev_runs_the_third_party_invite_story(self):
        data = tempfile.mkdtemp(prefix="herald-dev-")
        port_file = os.path.join(data, "ports")
        log = open(os.path.join(data, "log"), "wb")
        proc = subprocess.Popen([HERALD_BIN, "dev", "--data", data, "--port-file", port_file], stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            for _ in range(400):
                if os.path.exists(port_file):
                    break
                time.sleep(0.05)
            with open(port_file) as f:
                self.assertEqual(f.read().split(), ["8008", "8090"])
            hs = "http://127.0.0.1:8008/_matrix/client/v3"
            is_ = "http://127.0.0.1:8090/_matrix/identity/v2"
            status, alice = call("POST", hs + "/register", {"username": "alice", "password": "pw-alice-1",
                                                             "auth": {"type": "m.login.dummy"}})
            self.assertEqual(status, 200, alice)
            token = alice["access_token"]
            status, openid = call("POST", hs + "/user/%40alice%3Alocalhost%3A8008/openid/request_token", {}, token)
            self.assertEqual(status, 200, openid)
            status, registered = call("POST", is_ + "/account/register", openid)
            self.assertEqual(status, 200, registered)
            status, room = call("POST", hs + "/createRoom", {"name": "Dev", "preset": "private_chat"}, token)
            self.assertEqual(status, 200, room)
            status, body = call("POST", hs + f"/rooms/{urllib.parse.quote(room['room_id'], safe='')}/invite",
                                {"id_server": "127.0.0.1:8090", "id_access_token": registered["token"],
                                 "medium": "email", "address": "carol@example.org"}, token)
            self.assertEqual(status, 200, body)
            self.assertEqual(len(glob.glob(os.path.join(data, "outbox", "*.eml"))), 1)
            status, wk = call("GET", "http://127.0.0.1:8008/.well-known/matrix/client")
            self.assertEqual(wk["m.identity_server"]["base_url"], "http://127.0.0.1:8090")
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(20), 0)
            log.close()
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
