// Drives ws-client.js (the path in argv[2]) through fake WebSockets over
// connections that end, and prints what it sent and which states it took.
import { frame, open, reply, sockets, until } from "./fake-websockets.mjs";
// A "rejoined" handler below throws on purpose (appBugs): the app's bug
// must not change what the client does.

const joins = (socket) => socket.sent.filter((m) => m.event === "room.join").map((m) => JSON.stringify(m.data));
const close = (socket, code) => socket.onclose({ code, reason: "" });

const states = [];
const client = new globalThis.WsClient("ws://node/ws", { minDelay: 1, maxDelay: 5, onState: (s) => states.push(s.state + (s.code ? " " + s.code : "")) });
let first = true;
client.on("rejoined", () => {
  if (first) {
    first = false;
    throw new Error("a bug in the app's handler");
  }
});

// Joined while the cluster was out of reach: no epoch.
const one = await open();
const joined = client.request("room.join", { room: "a" });
reply(one, one.sent[0], { room: "a", members: 1, offset: 0, epoch: "", local: true });
await joined;
close(one, 1011);
const two = await open();
await until("the rejoin", () => joins(two).length === 1);
reply(two, two.sent[0], { room: "a", members: 1, offset: 3, epoch: "E" });
frame(two, { event: "room.message", room: "a", offset: 4, epoch: "E", data: {} });
await new Promise((r) => setTimeout(r, 20)); // the rejoined handler has thrown
close(two, 1011);
const three = await open();
await until("the second rejoin", () => joins(three).length === 1);
close(three, 1008);
await new Promise((r) => setTimeout(r, 30)); // no reconnect after 1008

// A dead link: the ping gets no reply, and the client dials again.
const pinged = new globalThis.WsClient("ws://node/ws", { minDelay: 1, pingAfter: 40, requestTimeout: 40 });
const four = await open();
await until("a ping", () => four.sent.some((m) => m.event === "ping"));
await until("a new connection after the silent one", () => sockets.length === 5);

console.log(JSON.stringify({ joins: [joins(two), joins(three)], states, connections: sockets.length }));
pinged.close();
process.exit(0);
