// A program written against ws-client.d.ts, imported as an ES module
// through ws-client.d.mts: it compiles only while the declarations type
// requests, replies, pushes and the connection's states by event.
import { WsClient, WsError, type RoomJoinReply, type WsState } from "./ws-client.mjs";

declare module "./ws-client.js" {
  interface PushMap {
    "orders.shipped": { id: string };
  }
}

const states: WsState["state"][] = [];
const client = new WsClient("ws://localhost:8000/ws", {
  token: "<jwt>",
  onState: (s) => states.push(s.state),
  getToken: async () => "<new jwt>",
  requestTimeout: 5000,
});

export async function join(): Promise<number> {
  const reply: RoomJoinReply = await client.request("room.join", { room: "lobby", since: { offset: 3, epoch: "e" } });
  const page = await client.request("room.members", { room: "lobby", limit: 10 });
  const sent = await client.request("room.send", { room: "lobby", text: "hi" }, { timeout: 1000 });
  const pong = await client.request("ping", null);
  return reply.members + page.users.length + (sent.offset ?? 0) + pong.time;
}

const off = client.on("room.message", (data, msg) => {
  const text: string = data.text;
  const offset: number | undefined = msg.offset;
  const epoch: string | undefined = msg.epoch;
  return [text, offset, epoch];
});
off();
client.on("rejoined", ({ room, recovered, missed, error }) => [room, recovered, missed, error instanceof WsError]);
client.on("rejoined", (r) => (r.error ? r.error.code : r.restarted ? r.offset : r.members + r.offset + r.epoch.length));
// @ts-expect-error a restarted stream reports no member count
client.on("rejoined", (r) => (r.error ? 0 : r.members));
client.on("rejoined", (_r, msg) => msg === undefined);
client.on("error", (reply) => reply.code + reply.message.length);
client.on("welcome", (welcome) => welcome.connId.length);
// An application's own push, declared by augmenting PushMap.
client.on("orders.shipped", (shipped) => shipped.id.length);
client.send("user.send", { to: "bob", text: "hi" });

// @ts-expect-error an event the contract does not declare
client.request("room.nope", {});
// @ts-expect-error room is required
client.request("room.join", {});
// @ts-expect-error text is a string
client.send("room.send", { room: "lobby", text: 1 });
// @ts-expect-error a room.message push has no userId
client.on("room.message", (data) => data.userId);
// @ts-expect-error a failed rejoin has no member count
client.on("rejoined", (r) => r.members);
// @ts-expect-error rejoined comes from the client, not in a frame
client.on("rejoined", (_r, msg) => msg.event);
client.close();

// Each state carries its own fields.
export function describe(s: WsState): string {
  switch (s.state) {
    case "connected":
      return s.welcome.userId + " on " + s.welcome.node;
    case "closed":
      return "closed " + (s.code ?? "by close()") + (s.reason ?? "");
    default:
      return s.state + " " + s.attempt + (s.delay === undefined ? "" : " in " + s.delay + " ms after " + s.code);
  }
}
// @ts-expect-error only a connected state has the welcome
export const welcomeOf = (s: WsState) => s.welcome;
