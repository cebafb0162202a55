// Drives ws-client.js (the path in argv[2]) through a fake WebSocket with
// the frames a node sends, and prints what the app's handlers saw.
import fs from "node:fs";

let socket;
const sent = [];
globalThis.WebSocket = class {
  static OPEN = 1;
  constructor() {
    this.readyState = 1;
    socket = this;
  }
  send(text) {
    sent.push(JSON.parse(text));
  }
  close() {}
};
new Function(fs.readFileSync(process.argv[2], "utf8"))();

const client = new globalThis.WsClient("ws://node/ws");
socket.onopen();
const frame = (msg) => socket.onmessage({ data: JSON.stringify(msg) });
const message = (offset, epoch) => frame({ event: "room.message", room: "r", offset, epoch, data: { text: "t" } });
const join = async (reply) => {
  const answered = client.request("room.join", { room: "r" });
  frame({ id: sent[sent.length - 1].id, event: "room.join", code: 0, data: reply });
  await answered;
};
const saw = [];
client.on("room.message", (_data, msg) => saw.push(`${msg.offset} ${msg.epoch}`));
client.on("rejoined", (r) => saw.push(`restarted ${r.restarted} at ${r.offset} ${r.epoch}`));

frame({ event: "welcome", data: { connId: "c", userId: "u", node: "n", pingInterval: 25000 } });
await join({ room: "r", offset: 0, epoch: "E", members: 1 });
message(1, "E");
message(1, "E"); // had already: dropped
// Redis lost the stream; the app joins the room again, and the reply is
// ahead of the new stream's messages still on their way.
await join({ room: "r", offset: 2, epoch: "F", members: 1 });
message(1, "F");
message(2, "F");
message(3, "F");
console.log(JSON.stringify(saw));
client.close();
process.exit(0);
