// Starts the real herald binary on a free port with its own temp directory (for the client stories).
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const bin = process.env.HERALD_BIN ?? new URL("../../build-test/herald", import.meta.url).pathname;

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// The homeserver; extraYaml adds configuration (e.g. trusted_identity_servers).
export async function startHerald(extraYaml = "") {
  const dir = mkdtempSync(join(tmpdir(), "herald-js-"));
  const config = join(dir, "homeserver.yaml");
  writeFileSync(config, `server_name: "localhost"
listeners: [{bind_address: 127.0.0.1, port: 0, resources: [client, federation]}]
database: {backend: sqlite, path: ${join(dir, "hs.db")}}
signing_key_path: ${join(dir, "signing.key")}
rate_limits: {enabled: false}
log_level: info
${extraYaml}
`);
  return launch("homeserver", config, dir);
}

// The identity server on a fixed port (so the homeserver can trust it by name), mail to <dir>/outbox.
export async function startIdentityServer(port, homeservers) {
  const dir = mkdtempSync(join(tmpdir(), "herald-js-is-"));
  const config = join(dir, "identity.yaml");
  writeFileSync(config, `server_name: "127.0.0.1:${port}"
public_baseurl: "http://127.0.0.1:${port}/"
listeners: [{bind_address: 127.0.0.1, port: ${port}, resources: [identity]}]
database: {backend: sqlite, path: ${join(dir, "is.db")}}
signing_key_path: ${join(dir, "is.key")}
outbox_dir: ${join(dir, "outbox")}
homeservers: ${JSON.stringify(homeservers)}
rate_limits: {enabled: false}
log_level: info
`);
  const server = await launch("identity", config, dir, false);
  server.outbox = join(dir, "outbox");
  server.cleanup = () => rmSync(dir, { recursive: true, force: true });
  return server;
}

async function launch(subcommand, config, dir, removeOnStop = true) {
  const portFile = join(dir, "port");
  rmSync(portFile, { force: true });
  const proc = spawn(bin, [subcommand, "--config", config, "--port-file", portFile], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr.on("data", (d) => { log += d; });
  for (let i = 0; i < 400 && !existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 25));
  if (!existsSync(portFile)) throw new Error("herald did not start:\n" + log);
  const port = parseInt(readFileSync(portFile, "utf8"), 10);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      // Stopping twice (or after a crash) answers at once instead of waiting for an exit that happened.
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      const exited = new Promise((r) => proc.on("exit", (code) => r(code)));
      proc.kill("SIGTERM");
      const code = await exited;
      if (removeOnStop) rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
