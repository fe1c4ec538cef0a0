// A minimal end-to-end-encrypting Matrix device in Node with libolm (@matrix-org/olm, the same library
// Hydrogen runs in the browser): uploads signed device and one-time keys, reads Olm to-device messages
// from /sync, decrypts Megolm room events, and sends Megolm-encrypted messages (sharing the room key with
// the other devices over Olm, via /keys/query, /keys/claim and /sendToDevice). Only the happy path.
import { createRequire } from "node:module";
import anotherjson from "another-json";

const require = createRequire(import.meta.url);
const Olm = require("@matrix-org/olm");
const OLM = "m.olm.v1.curve25519-aes-sha2";
const MEGOLM = "m.megolm.v1.aes-sha2";

export async function initOlm() {
  await Olm.init();
}

export class OlmDevice {
  // call(method, path, body) -> {status, json} with this user's access token.
  constructor(call, userId, deviceId) {
    this.call = call;
    this.userId = userId;
    this.deviceId = deviceId;
    this.account = new Olm.Account();
    this.account.create();
    const keys = JSON.parse(this.account.identity_keys());
    this.curve = keys.curve25519;
    this.ed = keys.ed25519;
    this.since = undefined;
    this.inboundGroup = new Map(); // session_id -> InboundGroupSession
    this.toDevice = [];
    this.timeline = new Map(); // room_id -> events
  }

  sign(obj) {
    const { signatures, unsigned, ...rest } = obj;
    const sig = this.account.sign(anotherjson.stringify(rest));
    return { ...obj, signatures: { ...(signatures ?? {}), [this.userId]: { [`ed25519:${this.deviceId}`]: sig } } };
  }

  async uploadKeys(count = 5) {
    const deviceKeys = this.sign({
      user_id: this.userId, device_id: this.deviceId, algorithms: [OLM, MEGOLM],
      keys: { [`curve25519:${this.deviceId}`]: this.curve, [`ed25519:${this.deviceId}`]: this.ed },
    });
    this.account.generate_one_time_keys(count);
    const otks = {};
    for (const [id, key] of Object.entries(JSON.parse(this.account.one_time_keys()).curve25519)) {
      otks[`signed_curve25519:${id}`] = this.sign({ key });
    }
    const r = await this.call("POST", "/_matrix/client/v3/keys/upload", { device_keys: deviceKeys, one_time_keys: otks });
    if (r.status !== 200) throw new Error(`keys/upload: ${r.status} ${JSON.stringify(r.json)}`);
    this.account.mark_keys_as_published();
    return r.json;
  }

  async sync(timeoutMs = 0) {
    const q = new URLSearchParams({ timeout: String(timeoutMs) });
    if (this.since) q.set("since", this.since);
    const r = await this.call("GET", `/_matrix/client/v3/sync?${q}`);
    if (r.status !== 200) throw new Error(`sync: ${r.status} ${JSON.stringify(r.json)}`);
    this.since = r.json.next_batch;
    for (const ev of r.json.to_device?.events ?? []) this.onToDevice(ev);
    for (const [roomId, room] of Object.entries(r.json.rooms?.join ?? {})) {
      const list = this.timeline.get(roomId) ?? [];
      list.push(...(room.timeline?.events ?? []));
      this.timeline.set(roomId, list);
    }
    return r.json;
  }

  onToDevice(ev) {
    this.toDevice.push(ev);
    if (ev.type !== "m.room.encrypted" || ev.content.algorithm !== OLM) return;
    const mine = ev.content.ciphertext?.[this.curve];
    if (!mine) return;
    const session = new Olm.Session();
    if (mine.type !== 0) throw new Error("only pre-key Olm messages are handled here");
    session.create_inbound_from(this.account, ev.content.sender_key, mine.body);
    this.account.remove_one_time_keys(session);
    const payload = JSON.parse(session.decrypt(mine.type, mine.body));
    ev.decrypted = payload;
    if (payload.type === "m.room_key" && payload.content.algorithm === MEGOLM) {
      const igs = new Olm.InboundGroupSession();
      igs.create(payload.content.session_key);
      this.inboundGroup.set(payload.content.session_id, igs);
    }
  }

  decryptRoomEvent(ev) {
    const igs = this.inboundGroup.get(ev.content.session_id);
    if (!igs) return null;
    return JSON.parse(igs.decrypt(ev.content.ciphertext).plaintext);
  }

  // Sends one Megolm-encrypted m.room.message to roomId, sharing a new room key with every device
  // (with keys) of the given users over Olm first.
  async sendEncrypted(roomId, userIds, body) {
    const ogs = new Olm.OutboundGroupSession();
    ogs.create();
    const roomKey = { algorithm: MEGOLM, room_id: roomId, session_id: ogs.session_id(), session_key: ogs.session_key() };
    const query = await this.call("POST", "/_matrix/client/v3/keys/query", { device_keys: Object.fromEntries(userIds.map((u) => [u, []])) });
    if (query.status !== 200) throw new Error(`keys/query: ${query.status} ${JSON.stringify(query.json)}`);
    const targets = [];
    for (const [userId, devices] of Object.entries(query.json.device_keys ?? {})) {
      for (const [deviceId, keys] of Object.entries(devices)) {
        if (userId === this.userId && deviceId === this.deviceId) continue;
        targets.push({ userId, deviceId, curve: keys.keys[`curve25519:${deviceId}`], ed: keys.keys[`ed25519:${deviceId}`] });
      }
    }
    if (!targets.length) throw new Error("keys/query found no device to share the room key with");
    const claimBody = { one_time_keys: {} };
    for (const t of targets) (claimBody.one_time_keys[t.userId] ??= {})[t.deviceId] = "signed_curve25519";
    const claim = await this.call("POST", "/_matrix/client/v3/keys/claim", claimBody);
    if (claim.status !== 200) throw new Error(`keys/claim: ${claim.status} ${JSON.stringify(claim.json)}`);
    const messages = {};
    for (const t of targets) {
      const otk = Object.values(claim.json.one_time_keys?.[t.userId]?.[t.deviceId] ?? {})[0];
      if (!otk) throw new Error(`keys/claim gave no key for ${t.userId} ${t.deviceId}`);
      const session = new Olm.Session();
      session.create_outbound(this.account, t.curve, otk.key);
      const plaintext = JSON.stringify({
        type: "m.room_key", content: roomKey, sender: this.userId, sender_device: this.deviceId,
        keys: { ed25519: this.ed }, recipient: t.userId, recipient_keys: { ed25519: t.ed },
      });
      (messages[t.userId] ??= {})[t.deviceId] = {
        algorithm: OLM, sender_key: this.curve, ciphertext: { [t.curve]: session.encrypt(plaintext) },
      };
    }
    const txn = `olm${Date.now()}`;
    const sent = await this.call("PUT", `/_matrix/client/v3/sendToDevice/m.room.encrypted/${txn}`, { messages });
    if (sent.status !== 200) throw new Error(`sendToDevice: ${sent.status} ${JSON.stringify(sent.json)}`);
    const ciphertext = ogs.encrypt(JSON.stringify({ type: "m.room.message", content: { msgtype: "m.text", body }, room_id: roomId }));
    const ev = await this.call("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.encrypted/${txn}`, {
      algorithm: MEGOLM, sender_key: this.curve, ciphertext, session_id: ogs.session_id(), device_id: this.deviceId,
    });
    if (ev.status !== 200) throw new Error(`send m.room.encrypted: ${ev.status} ${JSON.stringify(ev.json)}`);
    return { targets, eventId: ev.json.event_id };
  }
}
