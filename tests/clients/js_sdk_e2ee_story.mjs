// End-to-end encryption through Herald with matrix-js-sdk's Rust crypto (the WebAssembly build shipped in
// its npm package): alice and bob log in with encryption on (device keys, one-time keys uploaded), alice
// creates an encrypted room and invites bob, bob joins, alice sends a message; bob's client decrypts it.
// The room key travels as an Olm-encrypted to-device message, after /keys/query and /keys/claim: every
// piece of the homeserver's part of E2EE is on the path.
import assert from "node:assert/strict";
import * as sdk from "matrix-js-sdk";
import { startHerald } from "./herald_process.mjs";
import { logger, waitFor } from "./story_support.mjs";

async function register(baseUrl, username) {
  const anon = sdk.createClient({ baseUrl, logger });
  const res = await anon.registerRequest({ username, password: "pw-" + username, auth: { type: "m.login.dummy" } });
  const client = sdk.createClient({ baseUrl, accessToken: res.access_token, userId: res.user_id, deviceId: res.device_id,
                                    logger });
  await client.initRustCrypto({ useIndexedDB: false });
  return client;
}

const herald = await startHerald();
const watchdog = setTimeout(() => { console.error("e2ee story: timed out"); process.exit(1); }, 120000);
let failed = false;
const clients = [];
try {
  const alice = await register(herald.baseUrl, "alice");
  const bob = await register(herald.baseUrl, "bob");
  clients.push(alice, bob);
  alice.startClient({ initialSyncLimit: 10 });
  bob.startClient({ initialSyncLimit: 10 });

  const { room_id: roomId } = await alice.createRoom({
    name: "Secret room", preset: sdk.Preset.PrivateChat,
    initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
  });
  await waitFor("alice sees the encrypted room", () => alice.getRoom(roomId) && alice.isRoomEncrypted(roomId), 30000);
  await alice.invite(roomId, "@bob:localhost");
  await waitFor("bob's invite", () => bob.getRoom(roomId)?.getMyMembership() === "invite", 30000);
  await bob.joinRoom(roomId);
  await waitFor("alice sees bob joined", () => alice.getRoom(roomId)?.getMember("@bob:localhost")?.membership === "join", 30000);

  // Bob's device published its keys; alice's client finds them through /keys/query (re-asked when the
  // server lists bob in device_lists.changed).
  let bobDevices = 0;
  for (let i = 0; i < 300 && bobDevices === 0; i++) {
    const info = await alice.getCrypto().getUserDeviceInfo(["@bob:localhost"], true);
    bobDevices = info.get("@bob:localhost")?.size ?? 0;
    if (bobDevices === 0) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(bobDevices, 1, "alice's client knows bob's device");

  const { event_id: eventId } = await alice.sendTextMessage(roomId, "the eagle lands at noon");
  const decrypted = await waitFor("bob decrypts alice's message", () => {
    const event = bob.getRoom(roomId)?.findEventById(eventId);
    if (!event) return null;
    if (event.isBeingDecrypted() || event.isDecryptionFailure()) return null;
    return event.getType() === "m.room.message" ? event : null;
  }, 60000);
  assert.equal(decrypted.isEncrypted(), true, "the message travelled encrypted");
  assert.equal(decrypted.getWireType(), "m.room.encrypted");
  assert.equal(decrypted.getContent().body, "the eagle lands at noon");
  console.log("matrix-js-sdk end-to-end encryption story: ok");
} catch (e) {
  failed = true;
  console.error("e2ee story failed:", e);
  console.error(herald.log().split("\n").filter((l) => !l.includes(" info ")).slice(-40).join("\n"));
} finally {
  for (const c of clients) c.stopClient();
  const code = await herald.stop();
  if (code !== 0) { console.error("herald exited with", code); failed = true; }
}
clearTimeout(watchdog);
process.exit(failed ? 1 : 0);
