"""The membership story told through matrix-nio (Debian's python3-matrix-nio, which speaks the r0 API)
against the real herald binary. Run with /usr/bin/python3."""
import asyncio
import json
import os
import sys

from nio import AsyncClient, JoinError, JoinResponse, RoomCreateResponse, RoomInviteResponse, RoomPreset, SyncResponse
from nio.api import Api

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import HeraldServer  # noqa: E402

SERVER = "localhost"


async def register(base_url, name):
    client = AsyncClient(base_url, f"@{name}:{SERVER}")
    resp = await client.register(name, "pw-" + name)
    assert resp.__class__.__name__ == "RegisterResponse", resp
    client.access_token = resp.access_token
    client.user_id = resp.user_id
    client.device_id = resp.device_id
    return client


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


async def story(base_url):
    alice, bob, carol = [await register(base_url, n) for n in ("alice", "bob", "carol")]
    try:
        created = await alice.room_create(name="Nio room", preset=RoomPreset.private_chat)
        expect(isinstance(created, RoomCreateResponse), created)
        room_id = created.room_id

        # nio's room_invite has no reason parameter: send the spec's body through its transport.
        path = Api._build_path(["rooms", room_id, "invite"], {"access_token": alice.access_token})
        invited = await alice._send(RoomInviteResponse, "POST", path,
                                    json.dumps({"user_id": bob.user_id, "reason": "come and chat"}))
        expect(isinstance(invited, RoomInviteResponse), invited)

        first = await bob.sync(timeout=0)
        expect(isinstance(first, SyncResponse), first)
        expect(room_id in first.rooms.invite, f"bob sees the invite: {first.rooms.invite}")
        invite_state = first.rooms.invite[room_id].invite_state
        names = [e for e in invite_state if type(e).__name__ == "InviteNameEvent"]
        expect(names and names[0].name == "Nio room", f"stripped state has the name: {invite_state}")
        own = [e for e in invite_state if type(e).__name__ == "InviteMemberEvent" and e.state_key == bob.user_id]
        expect(own and own[0].content.get("reason") == "come and chat", f"the invite carries its reason: {own}")
        expect(own[0].sender == alice.user_id, "the inviter is alice")
        expect(bob.invited_rooms[room_id].name == "Nio room", "nio's room object knows the name")

        joined = await bob.join(room_id)
        expect(isinstance(joined, JoinResponse), joined)
        after_join = await bob.sync(timeout=0, since=first.next_batch)
        expect(room_id in after_join.rooms.join, "bob's sync shows the joined room")

        await alice.room_ban(room_id, carol.user_id, reason="not welcome")
        refused = await carol.join(room_id)
        expect(isinstance(refused, JoinError) and refused.status_code == "M_FORBIDDEN", f"carol cannot join: {refused}")

        await alice.room_kick(room_id, bob.user_id, reason="story over")
        kicked = await bob.sync(timeout=5000, since=after_join.next_batch)
        expect(room_id in kicked.rooms.leave, f"bob sees himself kicked: {kicked.rooms}")
        last = kicked.rooms.leave[room_id].timeline.events[-1]
        expect(last.source["content"] == {"membership": "leave", "reason": "story over"}, last.source)
        expect(last.sender == alice.user_id, "alice kicked him")

        public = await alice.room_create(alias="nio-lobby", preset=RoomPreset.public_chat)
        by_alias = await carol.join(f"#nio-lobby:{SERVER}")
        expect(isinstance(by_alias, JoinResponse) and by_alias.room_id == public.room_id, by_alias)
        members = await alice.joined_members(public.room_id)
        expect(hasattr(members, "members"), f"joined_members: {members}")
        expect(carol.user_id in [m.user_id for m in members.members], "carol joined the public room")
    finally:
        for c in (alice, bob, carol):
            await c.close()


def main():
    hs = HeraldServer()
    try:
        hs.start()
        asyncio.run(story(f"http://127.0.0.1:{hs.port}"))
        code = hs.stop()
        if code != 0:
            raise AssertionError(f"herald exited with {code}")
        print("nio story: ok")
    except Exception:
        print(hs.read_log()[-4000:], file=sys.stderr)
        raise
    finally:
        hs.cleanup()


if __name__ == "__main__":
    main()
