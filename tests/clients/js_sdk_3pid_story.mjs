// The third-party invite story told through matrix-js-sdk against the real herald binaries (homeserver and
// identity server): alice invites carol@example.org, who has no account yet; the room shows the invite
// with a redacted name; the email arrives; carol registers, gets an identity-server token through OpenID,
// validates her address from the email and binds it; the invite reaches her /sync with its signed block;
// she joins and alice sees her. Then: an already-bound address (a direct invite), a revoked invite (nothing
// arrives), and the identity server stopped (a clear error, the room unchanged).
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as sdk from "matrix-js-sdk";
import { freePort, startHerald, startIdentityServer } from "./herald_process.mjs";
import { logger, waitFor } from "./story_support.mjs";

// The text part of the newest .eml in the outbox that matches `pattern`.
function readMail(outbox, pattern) {
  const files = readdirSync(outbox).filter((f) => f.endsWith(".eml"))
    .sort((a, b) => statSync(join(outbox, a)).mtimeMs - statSync(join(outbox, b)).mtimeMs);
  for (const f of files.reverse()) {
    const raw = readFileSync(join(outbox, f), "latin1");
    const boundary = /boundary="([^"]+)"/.exec(raw)[1];
    for (const part of raw.split("--" + boundary)) {
      if (!part.includes("Content-Type: text/plain")) continue;
      const body = part.split("\r\n\r\n").slice(1).join("").replace(/\s+/g, "");
      const text = Buffer.from(body, "base64").toString("utf8");
      if (pattern.test(text)) return { text, headers: raw.split("\r\n\r\n")[0] };
    }
  }
  return undefined;
}

const isPort = await freePort();
const idServer = `127.0.0.1:${isPort}`;
const isUrl = `http://${idServer}`;
const herald = await startHerald(`trusted_identity_servers: {"${idServer}": "${isUrl}"}`);
const identity = await startIdentityServer(isPort, { localhost: herald.baseUrl });
const clients = [];
let failed = false;
let step = "start";
// A hang anywhere shows where it hung and the servers' logs, instead of only a ctest timeout.
const watchdog = setTimeout(() => {
  console.error(`story hung at step: ${step}`);
  console.error("--- homeserver log ---\n" + herald.log().slice(-6000));
  console.error("--- identity server log ---\n" + identity.log().slice(-6000));
  process.exit(1);
}, 120000);

async function account(username) {
  const anon = sdk.createClient({ baseUrl: herald.baseUrl, logger });
  const res = await anon.registerRequest({ username, password: "pw-" + username, auth: { type: "m.login.dummy" } });
  let isToken;
  const client = sdk.createClient({
    baseUrl: herald.baseUrl, idBaseUrl: isUrl, accessToken: res.access_token, userId: res.user_id,
    deviceId: res.device_id, logger, identityServer: { getAccessToken: async () => isToken },
  });
  // An identity-server account through OpenID, as Element does.
  const openid = await client.getOpenIdToken();
  isToken = (await client.registerWithIdentityServer(openid)).token;
  client.isToken = isToken;
  clients.push(client);
  return client;
}

async function validateAndBind(client, address) {
  step = `validate and bind ${address}`;
  const secret = "secret" + Math.random().toString(36).slice(2);
  const { sid } = await client.requestEmailToken(address, secret, 1, undefined, client.isToken);
  const mail = await waitFor("the validation email", () => readMail(identity.outbox, new RegExp(`\\(${address}\\)`)));
  const link = /(http:\/\/\S+submitToken\S+)/.exec(mail.text)[1];
  const page = await fetch(link);  // the person clicks the link in the email
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Your email address is verified/);
  await client.bindThreePid({ sid, client_secret: secret, id_server: idServer, id_access_token: client.isToken });
}

try {
  const alice = await account("alice");
  await alice.startClient({ initialSyncLimit: 10 });

  step = "unbound invite";
  // 1. An address nobody has bound yet.
  const { room_id: roomId } = await alice.createRoom({ name: "Garden party", preset: sdk.Preset.PrivateChat });
  await alice.inviteByThreePid(roomId, "email", "carol@example.org");
  const tpi = await waitFor("the third-party invite in alice's room", () =>
    alice.getRoom(roomId)?.currentState.getStateEvents("m.room.third_party_invite")[0]);
  assert.equal(tpi.getContent().display_name, "car...@exa...");
  const token = tpi.getStateKey();
  const invitation = await waitFor("the invitation email", () => readMail(identity.outbox, /has invited you/));
  assert.match(invitation.headers, /To: carol@example\.org/);
  assert.match(invitation.text, /\(Garden party\)/);

  step = "carol's account";
  const carol = await account("carol");
  await validateAndBind(carol, "carol@example.org");
  step = "carol's sync";
  await carol.startClient({ initialSyncLimit: 10 });
  const member = await waitFor("carol's invite with its signed block", () => {
    const room = carol.getRoom(roomId);
    if (room?.getMyMembership() !== "invite") return undefined;
    return room.currentState.getStateEvents("m.room.member", carol.getUserId());
  });
  const thirdParty = member.getContent().third_party_invite;
  assert.equal(thirdParty.display_name, "car...@exa...");
  assert.equal(thirdParty.signed.mxid, carol.getUserId());
  assert.equal(thirdParty.signed.token, token);
  assert.equal(member.getSender(), alice.getUserId());
  step = "carol joins";
  await carol.joinRoom(roomId);
  await waitFor("alice to see carol joined", () => alice.getRoom(roomId)?.getMember(carol.getUserId())?.membership === "join");

  step = "bound invite";
  // 2. The same address, now bound: an ordinary invite at once, no third-party invite event.
  const { room_id: room2 } = await alice.createRoom({ name: "Second", preset: sdk.Preset.PrivateChat });
  await alice.inviteByThreePid(room2, "email", "carol@example.org");
  await waitFor("carol's direct invite", () => carol.getRoom(room2)?.getMyMembership() === "invite");
  const direct = carol.getRoom(room2).currentState.getStateEvents("m.room.member", carol.getUserId());
  assert.equal(direct.getContent().third_party_invite, undefined);
  assert.equal(alice.getRoom(room2)?.currentState.getStateEvents("m.room.third_party_invite").length ?? 0, 0);

  step = "revoked invite";
  // 3. A revoked invite: dave binds his address afterwards and gets nothing.
  const { room_id: room3 } = await alice.createRoom({ name: "Third", preset: sdk.Preset.PrivateChat });
  await alice.inviteByThreePid(room3, "email", "dave@example.org");
  const daveInvite = await waitFor("dave's third-party invite", () =>
    alice.getRoom(room3)?.currentState.getStateEvents("m.room.third_party_invite")[0]);
  await alice.sendStateEvent(room3, "m.room.third_party_invite", {}, daveInvite.getStateKey());
  const dave = await account("dave");
  await validateAndBind(dave, "dave@example.org");
  await waitFor("the homeserver to refuse the revoked invite", () => /onbind invite not exchanged.*revoked/.test(herald.log()));
  const daveSync = await dave.http.authedRequest("GET", "/sync");
  assert.equal(daveSync.rooms?.invite?.[room3], undefined);

  step = "identity server down";
  // 4. The identity server is down: alice gets a clear error and the room does not change.
  const before = alice.getRoom(room3).currentState.getStateEvents("m.room.third_party_invite").length;
  assert.equal(await identity.stop(), 0);
  await assert.rejects(alice.inviteByThreePid(room3, "email", "erin@example.org"), (err) => {
    assert.equal(err.httpStatus, 502);
    assert.equal(err.errcode, "M_UNKNOWN");
    assert.match(err.data.error, /identity server/);
    return true;
  });
  const state = await alice.roomState(room3);
  assert.equal(state.filter((e) => e.type === "m.room.third_party_invite").length, before);
  step = "done";
  console.log("matrix-js-sdk third-party invite story: ok");
} catch (e) {
  failed = true;
  console.error(e);
  console.error("--- homeserver log ---\n" + herald.log().slice(-4000));
  console.error("--- identity server log ---\n" + identity.log().slice(-4000));
} finally {
  for (const c of clients) c.stopClient();
  await identity.stop().catch(() => {});
  identity.cleanup();
  const code = await herald.stop();
  if (code !== 0) failed = true;
}
clearTimeout(watchdog);
process.exit(failed ? 1 : 0);
