// Manual check (not run by ctest): stock Hydrogen (hydrogen-view-sdk, with olm, encryption on) against Herald.
// Starts Herald on a free port, builds Hydrogen's own app entry (Platform + RootViewModel: login screen,
// session, room list, invite and room views) with esbuild, serves it with a tiny static server on another
// origin (so CORS is exercised), registers alice and bob over HTTP, alice creates a room and invites bob,
// then headless Chromium (playwright-core) logs bob in through Hydrogen's login screen, opens the invite,
// clicks Accept and checks that the room opens with its name. Screenshots go to screenshots/, logs to logs/.
// Exit code 0 when every step passed.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, extname, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";
import { initOlm, OlmDevice } from "./alice_olm.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const heraldBin = process.env.HERALD_BIN ?? join(here, "../../../build-test/herald");
const chromiumBin = process.env.CHROMIUM ?? "/usr/bin/chromium";
const shotDir = join(here, "screenshots");
const logDir = join(here, "logs");
const ROOM_NAME = "Hydrogen check room";
const E2EE_ROOM_NAME = "Hydrogen encrypted room";
const PASSWORD = "hydrogen-check-password";
const started = Date.now();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(1) + "s";
const say = (msg) => console.log(`[${elapsed()}] ${msg}`);

const results = [];
function record(step, ok, detail = "") {
  results.push({ step, ok, detail });
  say(`${ok ? "PASS" : "FAIL"} ${step}${detail ? ": " + detail : ""}`);
}

// ---------- Herald ----------
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Herald on a port chosen up front: Hydrogen follows /.well-known/matrix/client, whose base_url is
// public_baseurl (default http://127.0.0.1:8008/), so public_baseurl must name the real listener.
async function startHerald() {
  const dir = mkdtempSync(join(tmpdir(), "herald-hydrogen-"));
  const config = join(dir, "homeserver.yaml");
  const chosen = await freePort();
  writeFileSync(config, `server_name: "localhost"
public_baseurl: "http://127.0.0.1:${chosen}/"
listeners: [{bind_address: 127.0.0.1, port: ${chosen}, resources: [client, federation]}]
database: {backend: sqlite, path: ${join(dir, "hs.db")}}
signing_key_path: ${join(dir, "signing.key")}
rate_limits: {enabled: false}
log_level: info
`);
  const portFile = join(dir, "port");
  const proc = spawn(heraldBin, ["homeserver", "--config", config, "--port-file", portFile], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? "detect_leaks=0" },
  });
  let log = "";
  proc.stdout.on("data", (d) => { log += d; });
  proc.stderr.on("data", (d) => { log += d; });
  for (let i = 0; i < 800 && !existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 25));
  if (!existsSync(portFile)) throw new Error("herald did not start:\n" + log);
  const port = parseInt(readFileSync(portFile, "utf8"), 10);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      const exited = new Promise((r) => proc.on("exit", (code) => r(code)));
      proc.kill("SIGTERM");
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

async function api(hs, method, path, body, token) {
  const res = await fetch(hs.baseUrl + path, {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  return { status: res.status, json };
}

async function register(hs, username) {
  const body = { username, password: PASSWORD, auth: { type: "m.login.dummy" }, initial_device_display_name: "check.mjs" };
  let r = await api(hs, "POST", "/_matrix/client/v3/register", body);
  if (r.status === 401 && r.json.session) {
    r = await api(hs, "POST", "/_matrix/client/v3/register", { ...body, auth: { type: "m.login.dummy", session: r.json.session } });
  }
  if (r.status !== 200) throw new Error(`register ${username}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

// ---------- Hydrogen app: build and serve ----------
async function buildApp() {
  const outdir = mkdtempSync(join(tmpdir(), "hydrogen-bundle-"));
  await esbuild.build({
    entryPoints: [join(here, "app/main.js")],
    bundle: true,
    format: "esm",
    platform: "browser",
    outdir,
    // olm.js (emscripten) has node-only branches; in the browser Hydrogen loads it by <script> from assetPaths.
    external: ["fs", "path", "crypto"],
    loader: { ".woff": "file", ".woff2": "file", ".svg": "file", ".json": "file" },
    logLevel: "warning",
  });
  return outdir;
}

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm", ".woff": "font/woff", ".woff2": "font/woff2", ".svg": "image/svg+xml",
  ".json": "application/json", ".png": "image/png",
};

function serveApp(bundleDir) {
  const sdk = join(here, "node_modules/hydrogen-view-sdk");
  const roots = [
    ["/bundle/", bundleDir],
    ["/assets/", join(sdk, "asset-build/assets")],
    ["/olm/", join(here, "node_modules/@matrix-org/olm")],
  ];
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    let file = null;
    if (url.pathname === "/favicon.ico") { res.writeHead(204); res.end(); return; }
    if (url.pathname === "/" || url.pathname === "/index.html") file = join(here, "app/index.html");
    else if (url.pathname === "/sw.js") file = join(sdk, "lib-build/sw.js");
    else {
      for (const [prefix, dir] of roots) {
        if (url.pathname.startsWith(prefix)) {
          const rel = normalize(decodeURIComponent(url.pathname.slice(prefix.length)));
          if (!rel.startsWith("..")) file = join(dir, rel);
        }
      }
    }
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("not found");
      return;
    }
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store" });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

// ---------- main ----------
async function main() {
  mkdirSync(shotDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const hs = await startHerald();
  say(`herald at ${hs.baseUrl} (${heraldBin})`);
  const bundleDir = await buildApp();
  const web = await serveApp(bundleDir);
  const appUrl = `http://127.0.0.1:${web.address().port}/?hs=${encodeURIComponent(hs.baseUrl)}`;
  say(`hydrogen app at ${appUrl}`);

  const userDataDir = mkdtempSync(join(tmpdir(), "hydrogen-chromium-"));
  let context = null;
  const browserLog = [];
  const requests = [];
  const failedRequests = [];
  try {
    // CORS preflight as a browser sends it for Hydrogen's authenticated JSON POSTs.
    const pre = await fetch(`${hs.baseUrl}/_matrix/client/r0/keys/upload`, {
      method: "OPTIONS",
      headers: { Origin: new URL(appUrl).origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type" },
    });
    const allowOrigin = pre.headers.get("access-control-allow-origin");
    const allowHeaders = (pre.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    record("CORS preflight OPTIONS /_matrix/client/r0/keys/upload",
      pre.status < 300 && (allowOrigin === "*" || allowOrigin === new URL(appUrl).origin) && allowHeaders.includes("authorization"),
      `status ${pre.status}, allow-origin ${allowOrigin}, allow-headers ${allowHeaders}`);

    // alice and bob over HTTP; alice creates a named room, says hello, invites bob.
    const alice = await register(hs, "alice");
    const bob = await register(hs, "bob");
    const created = await api(hs, "POST", "/_matrix/client/v3/createRoom", { name: ROOM_NAME, preset: "private_chat", topic: "made by check.mjs" }, alice.access_token);
    if (created.status !== 200) throw new Error(`createRoom: ${created.status} ${JSON.stringify(created.json)}`);
    const roomId = created.json.room_id;
    await api(hs, "PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`, { msgtype: "m.text", body: "hello bob, from alice" }, alice.access_token);
    const inv = await api(hs, "POST", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: bob.user_id }, alice.access_token);
    record("alice (HTTP) creates the room and invites bob", inv.status === 200, `${roomId}, invite ${inv.status}`);

    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumBin,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.on("console", (m) => browserLog.push(`[${elapsed()}] console.${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => browserLog.push(`[${elapsed()}] pageerror: ${e.message}`));
    context.on("response", async (r) => {
      if (!r.url().startsWith(hs.baseUrl)) return;
      const line = `[${elapsed()}] ${r.request().method()} ${r.url().slice(hs.baseUrl.length)} -> ${r.status()}`;
      if (r.status() < 400) { requests.push(line); return; }
      const body = await r.text().catch(() => "");
      requests.push(`${line} ${body.slice(0, 200)}`);
      // The service worker relays Hydrogen's requests, so the browser reports each one twice (once without a body).
      if (body) failedRequests.push(`${r.request().method()} ${r.url().slice(hs.baseUrl.length).replace(/[?&]_cacheBuster=\d+/, "")} -> ${r.status()} ${body.slice(0, 200)}`);
    });
    context.on("requestfailed", (r) => {
      if (r.url().startsWith(hs.baseUrl)) requests.push(`[${elapsed()}] ${r.method()} ${r.url().slice(hs.baseUrl.length)} -> FAILED ${r.failure()?.errorText}`);
    });

    const shot = async (name) => {
      const path = join(shotDir, name);
      await page.screenshot({ path });
      say(`screenshot ${path}`);
    };

    // 1. Hydrogen's login screen.
    await page.goto(appUrl);
    await page.waitForSelector("#username", { timeout: 30000 });
    await page.fill("#homeserver", hs.baseUrl);
    await page.dispatchEvent("#homeserver", "change");
    await page.waitForSelector("#username:not([disabled])", { timeout: 30000 });
    await page.fill("#username", "bob");
    await page.fill("#password", PASSWORD);
    await shot("01-login.png");
    record("Hydrogen shows its login screen", true);

    // 2. Log in; wait for the session (room list) or a login/load error.
    await page.click(".PasswordLoginView button[type=submit]");
    const outcome = await Promise.race([
      page.waitForSelector(".SessionView .LeftPanel", { timeout: 90000 }).then(() => "session"),
      page.waitForSelector(".SessionLoadStatusView button, .PasswordLoginView .error, .LoginView .error", { timeout: 90000 }).then(() => "error"),
    ]).catch((e) => "timeout: " + e.message.split("\n")[0]);
    if (outcome !== "session") {
      await shot("02-login-failed.png");
      const text = await page.innerText("#app").catch(() => "");
      record("bob logs in through Hydrogen (encryption on)", false, `${outcome}; page says: ${text.replace(/\s+/g, " ").slice(0, 400)}`);
      return;
    }
    record("bob logs in through Hydrogen (encryption on)", true);

    // 3. The invite is in the room list.
    const tile = page.locator(".LeftPanel li a", { hasText: ROOM_NAME });
    const tileShown = await tile.first().waitFor({ timeout: 30000 }).then(() => true, () => false);
    await shot("02-room-list-with-invite.png");
    record("the invite shows in the room list", tileShown);
    if (!tileShown) return;

    // 4. Open the invite, accept it.
    await tile.first().click();
    const inviteShown = await page.waitForSelector(".InviteView", { timeout: 20000 }).then(() => true, () => false);
    await shot("03-invite.png");
    const inviteText = inviteShown ? (await page.innerText(".InviteView")).replace(/\s+/g, " ") : "";
    record("the invite view opens", inviteShown, inviteText.slice(0, 200));
    if (!inviteShown) return;
    await page.click(".InviteView button:has-text('Accept')");

    // 5. The room opens with its name.
    const roomShown = await page.waitForSelector(".RoomView .RoomHeader h2", { timeout: 30000 }).then(() => true, () => false);
    const header = roomShown ? (await page.innerText(".RoomView .RoomHeader h2")).trim() : "";
    // Give the timeline a moment to fill (alice's message before the invite).
    const seenHello = roomShown && await page.waitForSelector(".RoomView .Timeline :text('hello bob, from alice')", { timeout: 15000 }).then(() => true, () => false);
    await shot("04-room.png");
    record("after Accept the room opens with its name", roomShown && header === ROOM_NAME, `header "${header}"`);
    record("alice's earlier message shows in the timeline", seenHello);
    const membership = await api(hs, "GET", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(bob.user_id)}`, undefined, alice.access_token);
    record("Herald has bob joined", membership.json.membership === "join", `membership ${membership.json.membership}`);

    // Phase 2: an encrypted room. alice is a Node libolm device (alice_olm.mjs) with keys on Herald.
    await initOlm();
    const aliceDev = new OlmDevice((m, p, b) => api(hs, m, p, b, alice.access_token), alice.user_id, alice.device_id);
    await aliceDev.uploadKeys();
    await aliceDev.sync(0);
    const e2ee = await api(hs, "POST", "/_matrix/client/v3/createRoom", {
      name: E2EE_ROOM_NAME, preset: "private_chat",
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    }, alice.access_token);
    if (e2ee.status !== 200) throw new Error(`createRoom (encrypted): ${e2ee.status} ${JSON.stringify(e2ee.json)}`);
    const e2eeRoom = e2ee.json.room_id;
    const inv2 = await api(hs, "POST", `/_matrix/client/v3/rooms/${encodeURIComponent(e2eeRoom)}/invite`, { user_id: bob.user_id }, alice.access_token);
    record("alice (libolm device) creates an encrypted room and invites bob", inv2.status === 200, `${e2eeRoom}, invite ${inv2.status}`);
    const tile2 = page.locator(".LeftPanel li a", { hasText: E2EE_ROOM_NAME });
    if (!await tile2.first().waitFor({ timeout: 30000 }).then(() => true, () => false)) {
      record("the encrypted room's invite shows in the room list", false);
      return;
    }
    await tile2.first().click();
    await page.waitForSelector(".InviteView button:has-text('Accept')", { timeout: 20000 });
    await page.click(".InviteView button:has-text('Accept')");
    const room2Shown = await page.waitForFunction((name) => document.querySelector(".RoomView .RoomHeader h2")?.textContent.trim() === name,
      E2EE_ROOM_NAME, { timeout: 30000 }).then(() => true, () => false);
    record("bob accepts the encrypted room's invite and it opens", room2Shown);
    if (!room2Shown) { await shot("05-encrypted-room-failed.png"); return; }

    // bob sends through Hydrogen's composer (Hydrogen: keys/query, keys/claim, sendToDevice, Megolm event).
    const fromBob = "encrypted hello from hydrogen";
    await page.fill(".MessageComposer textarea", fromBob);
    await page.press(".MessageComposer textarea", "Enter");
    let decryptedFromBob = null;
    for (let i = 0; i < 30 && !decryptedFromBob; i++) {
      await aliceDev.sync(1000);
      for (const ev of aliceDev.timeline.get(e2eeRoom) ?? []) {
        if (ev.type === "m.room.encrypted" && ev.sender === bob.user_id) decryptedFromBob = aliceDev.decryptRoomEvent(ev) ?? decryptedFromBob;
      }
    }
    const bobEvents = (aliceDev.timeline.get(e2eeRoom) ?? []).filter((ev) => ev.sender === bob.user_id).map((ev) => ev.type);
    record("alice (libolm) decrypts bob's message sent by Hydrogen", decryptedFromBob?.content?.body === fromBob,
      `bob's events seen by alice: ${bobEvents.join(", ")}; to-device received: ${aliceDev.toDevice.map((e) => e.type).join(", ") || "none"}; decrypted: ${JSON.stringify(decryptedFromBob?.content ?? null)}`);

    // alice answers encrypted; Hydrogen must get the room key over to-device and show the plaintext.
    const fromAlice = "encrypted reply from alice";
    const sent = await aliceDev.sendEncrypted(e2eeRoom, [bob.user_id], fromAlice);
    const seenReply = await page.waitForSelector(`.RoomView .Timeline :text('${fromAlice}')`, { timeout: 30000 }).then(() => true, () => false);
    await shot("05-encrypted-room.png");
    const timelineText = (await page.innerText(".RoomView .Timeline").catch(() => "")).replace(/\s+/g, " ");
    record("Hydrogen decrypts and shows alice's encrypted reply", seenReply,
      `room key sent to ${sent.targets.map((t) => t.deviceId).join(", ")}; timeline: ${timelineText.slice(-300)}`);
  } finally {
    if (context) await context.close().catch(() => {});
    web.close();
    await hs.stop();
    const log = hs.log();
    writeFileSync(join(logDir, "herald.log"), log);
    writeFileSync(join(logDir, "browser-console.log"), browserLog.join("\n") + "\n");
    writeFileSync(join(logDir, "browser-requests.log"), requests.join("\n") + "\n");
    const upload = log.split("\n").filter((l) => /method=POST route=\/_matrix\/client\/r0\/keys\/upload\b/.test(l));
    record("Herald's log: POST /_matrix/client/r0/keys/upload answered 200", upload.length > 0 && upload.every((l) => / status=200\b/.test(l)),
      `${upload.length} request(s): ${upload.map((l) => (l.match(/status=\d+/) ?? ["?"])[0]).join(", ")}`);
    const failed = log.split("\n").filter((l) => / status=[45]\d\d\b/.test(l));
    say(`requests Herald answered with 4xx/5xx (Herald's log): ${failed.length}`);
    for (const l of failed) console.log("  " + l);
    say(`the same as the browser saw them (path, status, body): ${[...new Set(failedRequests)].length}`);
    for (const l of new Set(failedRequests)) console.log("  " + l);
    rmSync(userDataDir, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  record("check ran to the end", false, e.stack ?? String(e));
}
const failedSteps = results.filter((r) => !r.ok);
console.log(`\n${results.length - failedSteps.length} passed, ${failedSteps.length} failed (${elapsed()})`);
process.exit(failedSteps.length ? 1 : 0);
