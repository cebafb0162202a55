// Fake WebSockets for the scripts that drive ws-client.js: each records
// what the client sends, and the script plays the node. Importing this
// installs them and loads the client (the path in argv[2]).
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
