// Starts the real herald binary on a free port with its own temp directory (for the client stories).
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function startHerald() {
  const bin = process.env.HERALD_BIN ?? new URL("../../build-test/herald", import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), "herald-js-"));
  const config = join(dir, "homeserver.yaml");
  writeFileSync(config, `server_name: "localhost"
listeners: [{bind_address: 127.0.0.1, port: 0, resources: [client, federation]}]
database: {backend: sqlite, path: ${join(dir, "hs.db")}}
signing_key_path: ${join(dir, "signing.key")}
rate_limits: {enabled: false}
log_level: info
`);
  const portFile = join(dir, "port");
  const proc = spawn(bin, ["homeserver", "--config", config, "--port-file", portFile], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr.on("data", (d) => { log += d; });
  for (let i = 0; i < 400 && !existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 25));
  if (!existsSync(portFile)) throw new Error("herald did not start:\n" + log);
  const port = parseInt(readFileSync(portFile, "utf8"), 10);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      const exited = new Promise((r) => proc.on("exit", (code) => r(code)));
      proc.kill("SIGTERM");
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
