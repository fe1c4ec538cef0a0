"""Runs a client story against two real Herald homeservers federating over TLS (issue 15's two-server
matrix-js-sdk story): `python3 two_servers.py NODE STORY.mjs`. The servers come from the integration
harness (tests/integration/harness.start_federation_servers, certificates from a throwaway test CA); the
story talks to each server's plain-HTTP client listener and finds them in HERALD_A_URL, HERALD_A_NAME,
HERALD_B_URL and HERALD_B_NAME. Exits with the story's status, and with 1 when a server did not exit
cleanly."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import start_federation_servers  # noqa: E402
from tls_ca import TestCA  # noqa: E402

RETRY_YAML = "federation: {destination_min_retry_interval: 100ms, destination_retry_multiplier: 2, " \
             "destination_max_retry_interval: 1s}"


def main():
    node, story = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="herald-two-servers-")
    servers = []
    try:
        servers = start_federation_servers(TestCA(os.path.join(tmp, "ca")), extra_yaml=RETRY_YAML)
        a, b = servers
        env = dict(os.environ, HERALD_A_URL=f"http://127.0.0.1:{a.port}", HERALD_A_NAME=a.server_name,
                   HERALD_B_URL=f"http://127.0.0.1:{b.port}", HERALD_B_NAME=b.server_name)
        status = subprocess.run([node, story], env=env, cwd=os.path.dirname(os.path.abspath(story)),
                                timeout=240).returncode
        for server in servers:
            code = server.stop()
            if code != 0:
                print(f"{server.server_name} exited with {code}", file=sys.stderr)
                status = status or 1
        if status != 0:
            for server in servers:
                lines = [line for line in server.read_log().splitlines() if " info " not in line]
                print(f"---- {server.server_name} (not info) ----\n" + "\n".join(lines[-40:]), file=sys.stderr)
        return status
    finally:
        for server in servers:
            server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
