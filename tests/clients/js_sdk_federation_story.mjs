// The membership story across two servers, told through matrix-js-sdk: alice on Herald A creates a room and
// invites bob of Herald B by user ID; bob's sync shows the invite (with the room's name from its stripped
// state) and he joins through the inviting server; they exchange messages both ways; bob leaves and alice
// sees him go; invited again, he rejects the invite. Run by two_servers.py, which starts both servers (federating over TLS with a test CA) and
// gives their plain client listeners as HERALD_A_URL / HERALD_B_URL and their names as HERALD_A_NAME /
// HERALD_B_NAME.
import assert from "node:assert/strict";
import * as sdk from "matrix-js-sdk";
import { logger, waitFor } from "./story_support.mjs";

const [urlA, nameA, urlB, nameB] = ["HERALD_A_URL", "HERALD_A_NAME", "HERALD_B_URL", "HERALD_B_NAME"].map((k) => {
  if (!process.env[k]) throw new Error(k + " is not set: run this story through two_servers.py");
  return process.env[k];
});

async function register(baseUrl, username) {
  const anon = sdk.createClient({ baseUrl, logger });
  const res = await anon.registerRequest({ username, password: "pw-" + username, auth: { type: "m.login.dummy" } });
  return sdk.createClient({ baseUrl, accessToken: res.access_token, userId: res.user_id, deviceId: res.device_id, logger });
}

// The bodies of the room's m.room.message events `client` has seen so far.
function messages(client, roomId) {
  const room = client.getRoom(roomId);
  if (!room) return [];
  return room.getLiveTimeline().getEvents().filter((e) => e.getType() === "m.room.message").map((e) => e.getContent().body);
}

const started = Date.now();
const alice = await register(urlA, "alice");
const bob = await register(urlB, "bob");
const aliceId = `@alice:${nameA}`;
const bobId = `@bob:${nameB}`;
assert.equal(alice.getUserId(), aliceId);
assert.equal(bob.getUserId(), bobId);
let failed = false;
try {
  await bob.setDisplayName("Bob of B");
  const { room_id: roomId } = await alice.createRoom({ name: "Across servers", preset: sdk.Preset.PrivateChat });
  alice.startClient({ initialSyncLimit: 10 });
  await alice.invite(roomId, bobId, "come over");

  // The invite crosses to B and shows in bob's sync.
  bob.startClient({ initialSyncLimit: 10 });
  const invited = await waitFor("bob's invite on B", () => {
    const room = bob.getRoom(roomId);
    return room && room.getMyMembership() === "invite" ? room : null;
  }, 30000);
  assert.equal(invited.name, "Across servers", "the invite's stripped state carries the room name");
  const inviteEvent = invited.currentState.getMember(bobId).events.member;
  assert.equal(inviteEvent.getSender(), aliceId);
  assert.equal(inviteEvent.getContent().reason, "come over");

  // bob joins by room ID alone: B asks the server the invite came from.
  await bob.joinRoom(roomId);
  await waitFor("bob joined on B", () => bob.getRoom(roomId)?.getMyMembership() === "join", 30000);
  await waitFor("alice sees bob joined", () => alice.getRoom(roomId)?.getMember(bobId)?.membership === "join", 30000);
  assert.equal(alice.getRoom(roomId).getMember(bobId).name, "Bob of B", "bob's display name crossed with his join");
  assert.equal(bob.getRoom(roomId).name, "Across servers", "B has the room's state after the join");

  // Messages both ways.
  await alice.sendTextMessage(roomId, "hello from A");
  await waitFor("bob sees alice's message", () => messages(bob, roomId).includes("hello from A"), 30000);
  await bob.sendTextMessage(roomId, "hello from B");
  await waitFor("alice sees bob's message", () => messages(alice, roomId).includes("hello from B"), 30000);
  const sender = alice.getRoom(roomId).getLiveTimeline().getEvents().find((e) => e.getContent().body === "hello from B").getSender();
  assert.equal(sender, bobId);

  // bob leaves; alice sees him go.
  await bob.leave(roomId);
  await waitFor("bob left on B", () => bob.getRoom(roomId)?.getMyMembership() === "leave", 30000);
  await waitFor("alice sees bob leave", () => alice.getRoom(roomId)?.getMember(bobId)?.membership === "leave", 30000);
  const members = await alice.getJoinedRoomMembers(roomId);
  assert.deepEqual(Object.keys(members.joined), [aliceId]);

  // Invited again to the room B has left, bob sees the invite and rejects it; alice sees the rejection.
  await alice.invite(roomId, bobId);
  await waitFor("bob's second invite on B", () => bob.getRoom(roomId)?.getMyMembership() === "invite", 30000);
  await bob.leave(roomId);
  await waitFor("alice sees bob reject", () => {
    const member = alice.getRoom(roomId)?.getMember(bobId);
    return member?.membership === "leave" && member.events.member.getSender() === bobId;
  }, 30000);
  console.log(`js-sdk two-server story: ok (${Date.now() - started} ms)`);
} catch (e) {
  failed = true;
  console.error("js-sdk two-server story failed:", e);
} finally {
  alice.stopClient();
  bob.stopClient();
}
// The SDK leaves timers behind after stopClient; the story is over.
process.exit(failed ? 1 : 0);
