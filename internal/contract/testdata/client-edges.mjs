// Drives ws-client.js (the path in argv[2]) through fake WebSockets at the
// edges of its reconnects, and prints what each case saw.
import { appBugs, frame, open, reply, sockets, until } from "./fake-websockets.mjs";
// A handler below throws on purpose (appBugs).

const message = (socket, offset, epoch) =>
  frame(socket, { event: "room.message", room: "r", offset, epoch, data: { room: "r", text: "t" + offset } });
const lastJoin = (socket) => socket.sent.filter((m) => m.event === "room.join").pop();
const settle = () => new Promise((r) => setTimeout(r, 20));
const saw = {};

// Pushes that come in the same read as the join's reply, before the
// promise's callbacks run: the next rejoin starts after them.
{
  const client = new globalThis.WsClient("ws://node/ws", { minDelay: 1, maxDelay: 5 });
  const one = await open();
  const joined = client.request("room.join", { room: "r" });
  reply(one, lastJoin(one), { room: "r", members: 1, offset: 3, epoch: "E" });
  message(one, 4, "E");
  message(one, 5, "E");
  await joined;
  one.onclose({ code: 1011, reason: "" });
  const two = await open();
  await until("the rejoin", () => lastJoin(two));
  saw.rejoinSince = lastJoin(two).data.since;
  client.close();
}

// getToken gives no token after 4401: the client stops rather than come
// back as an anonymous user.
{
  const states = [];
  const client = new globalThis.WsClient("ws://node/ws", {
    minDelay: 1, maxDelay: 5, token: "T1", getToken: async () => "", onState: (s) => states.push(s.state + (s.code ? " " + s.code : "")),
  });
  const one = await open();
  const count = sockets.length;
  one.onclose({ code: 4401, reason: "token expired" });
  await settle();
  saw.emptyToken = { last: states[states.length - 1], newConnections: sockets.length - count };
  client.close();
}

// close() while a rejoin waits for its reply: the app hears nothing more.
{
  const client = new globalThis.WsClient("ws://node/ws", { minDelay: 1, maxDelay: 5 });
  const rejoined = [];
  client.on("rejoined", (r) => rejoined.push(r));
  const one = await open();
  const joined = client.request("room.join", { room: "r" });
  reply(one, lastJoin(one), { room: "r", members: 1, offset: 1, epoch: "E" });
  await joined;
  one.onclose({ code: 1011, reason: "" });
  const two = await open();
  await until("the rejoin", () => lastJoin(two));
  client.close();
  two.onclose({ code: 1000, reason: "client closed" });
  await settle();
  saw.rejoinedAfterClose = rejoined.length;
}

// A "rejoined" handler that throws at a restarted stream loses the app
// no message.
{
  const client = new globalThis.WsClient("ws://node/ws", { minDelay: 1, maxDelay: 5 });
  const messages = [];
  client.on("rejoined", () => {
    throw new Error("a bug in the app's handler");
  });
  client.on("room.message", (data) => messages.push(data.text));
  const one = await open();
  const joined = client.request("room.join", { room: "r" });
  reply(one, lastJoin(one), { room: "r", members: 1, offset: 1, epoch: "E" });
  await joined;
  message(one, 1, "F");
  message(one, 2, "F");
  await settle();
  saw.afterAThrowingHandler = { messages, thrown: appBugs };
  client.close();
}

console.log(JSON.stringify(saw));
process.exit(0);
