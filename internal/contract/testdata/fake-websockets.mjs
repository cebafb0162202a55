// Fake WebSockets for the scripts that drive ws-client.js: each records
// what the client sends, and the script plays the node with the helpers
// below. Importing this installs them and loads the client (the path in
// argv[2]).
import fs from "node:fs";

// sockets are the client's sockets, in the order it created them.
export const sockets = [];

globalThis.WebSocket = class {
  static OPEN = 1;
  constructor() {
    this.readyState = 0;
    this.sent = [];
    sockets.push(this);
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = 3;
  }
};
new Function(fs.readFileSync(process.argv[2], "utf8"))();

// appBugs are the messages of the exceptions the scripts' handlers throw on
// purpose, as "a bug in the app's handler": the client reports them as
// uncaught, as a browser would show them. Any other ends the script.
export const appBugs = [];
process.on("uncaughtException", (err) => {
  if (err.message !== "a bug in the app's handler") {
    console.error(err);
    process.exit(1);
  }
  appBugs.push(err.message);
});

// until waits for ok, failing after five seconds.
export const until = async (what, ok) => {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ok()) throw new Error("timed out waiting for " + what);
};

// frame hands socket's client msg, as the node would send it.
export const frame = (socket, msg) => socket.onmessage({ data: JSON.stringify(msg) });

// reply answers request, a message the client sent, with code 0 and data.
export const reply = (socket, request, data) => frame(socket, { id: request.id, event: request.event, code: 0, data });

let opened = 0; // the sockets opened so far, in the order created

// open waits for the client's next socket, opens it and sends the welcome.
export const open = async () => {
  await until("connection " + (opened + 1), () => sockets.length > opened);
  const socket = sockets[opened++];
  socket.readyState = 1;
  socket.onopen();
  frame(socket, { event: "welcome", data: { connId: "c" + opened, userId: "u", node: "n", pingInterval: 25000 } });
  return socket;
};
