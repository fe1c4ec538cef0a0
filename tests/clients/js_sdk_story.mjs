// The membership story told through matrix-js-sdk against the real herald binary:
// alice creates a room, invites bob with a reason; bob sees the invite (with its stripped state) in sync
// and joins; alice bans carol, carol cannot join; alice kicks bob with a reason and bob sees himself
// kicked; a public room is joined by alias through the legacy /join/{alias} path.
import assert from "node:assert/strict";
import * as sdk from "matrix-js-sdk";
import { startHerald } from "./herald_process.mjs";
import { logger, waitFor } from "./story_support.mjs";

async function register(baseUrl, username) {
  const anon = sdk.createClient({ baseUrl, logger });
  const res = await anon.registerRequest({ username, password: "pw-" + username, auth: { type: "m.login.dummy" } });
  return sdk.createClient({ baseUrl, accessToken: res.access_token, userId: res.user_id, deviceId: res.device_id, logger });
}

const herald = await startHerald();
let failed = false;
try {
  const alice = await register(herald.baseUrl, "alice");
  const bob = await register(herald.baseUrl, "bob");
  const carol = await register(herald.baseUrl, "carol");
  const server = "localhost";

  const { room_id: roomId } = await alice.createRoom({ name: "Story room", preset: sdk.Preset.PrivateChat });
  await alice.invite(roomId, `@bob:${server}`, "come and chat");

  bob.startClient({ initialSyncLimit: 10 });
  const invited = await waitFor("bob's invite", () => {
    const room = bob.getRoom(roomId);
    return room && room.getMyMembership() === "invite" ? room : null;
  });
  assert.equal(invited.name, "Story room", "the invite's stripped state carries the room name");
  const inviteEvent = invited.currentState.getMember(`@bob:${server}`).events.member;
  assert.equal(inviteEvent.getContent().reason, "come and chat");
  assert.equal(inviteEvent.getSender(), `@alice:${server}`);
  assert.ok(invited.currentState.getStateEvents("m.room.create", ""), "m.room.create is in the stripped state");

  await bob.joinRoom(roomId);
  await waitFor("bob joined", () => bob.getRoom(roomId)?.getMyMembership() === "join");

  await alice.ban(roomId, `@carol:${server}`, "not welcome");
  await assert.rejects(carol.joinRoom(roomId), (err) => {
    assert.equal(err.httpStatus, 403);
    assert.equal(err.errcode, "M_FORBIDDEN");
    return true;
  });

  await alice.kick(roomId, `@bob:${server}`, "story over");
  const kick = await waitFor("bob sees himself kicked", () => {
    const member = bob.getRoom(roomId)?.getMember(`@bob:${server}`);
    return member && member.membership === "leave" ? member.events.member : null;
  });
  assert.equal(kick.getSender(), `@alice:${server}`);
  assert.equal(kick.getContent().reason, "story over");
  bob.stopClient();

  // A public room, joined by alias through the legacy api/v1 path.
  const { room_id: publicId } = await alice.createRoom({ preset: sdk.Preset.PublicChat, room_alias_name: "lobby",
                                                        visibility: sdk.Visibility.Public });
  const alias = `#lobby:${server}`;
  const resolved = await carol.getRoomIdForAlias(alias);
  assert.equal(resolved.room_id, publicId);
  const joined = await carol.http.authedRequest(sdk.Method.Post, "/join/" + encodeURIComponent(alias), undefined, {},
                                                { prefix: "/_matrix/client/api/v1" });
  assert.equal(joined.room_id, publicId);
  const members = await alice.getJoinedRoomMembers(publicId);
  assert.ok(members.joined[`@carol:${server}`], "carol is joined");
  console.log("js-sdk story: ok");
} catch (e) {
  failed = true;
  console.error("js-sdk story failed:", e);
  console.error(herald.log().split("\n").filter((l) => !l.includes(" info ")).slice(-40).join("\n"));
} finally {
  const code = await herald.stop();
  if (code !== 0) { console.error("herald exited with", code); failed = true; }
}
process.exit(failed ? 1 : 0);
