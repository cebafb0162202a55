// ws-client.js: a dependency-free client for the template-ws envelope.
//
// As a plain script:  <script src="/ws-client.js"></script>  then  new WsClient(url)
// As an ES module:    import { WsClient } from "/ws-client.mjs";
//
//   const client = new WsClient("ws://localhost:8000/ws", {
//     token: "<jwt>",                  // optional, sent as ?token= (browsers cannot set headers)
//     onState: (s) => console.log(s),  // {state: "connecting"|"connected"|"reconnecting"|"closed", ...}
//     getToken: async () => "<new jwt>", // optional, asked after 4401 (token expired); "" stops the client
//   });
//   client.on("room.message", (data, msg) => ...);   // msg.room, msg.offset, msg.epoch
//   client.on("rejoined", ({ room, recovered, missed, members, restarted }) => ...);
//   const reply = await client.request("room.join", { room: "lobby" }, { timeout: 5000 });
//
// Rooms joined through request("room.join") are remembered with the
// stream position of their last message (PROTOCOL 3a). After a reconnect,
// on whichever node, the client joins them again with "since": the missed
// messages reach the same handlers, in order, before the "rejoined" event,
// whose recovered is false when the server no longer had them all (the app
// then reloads the room another way). A message of an epoch the client did
// not know means the room's stream started again under it (the server lost
// it): "rejoined" with restarted true comes first, and the app reloads the
// room the same way. request("room.leave") forgets a room.
//
// After a close it did not ask for, the client does what the close code
// says (see stopCodes): it reconnects by itself with exponential backoff
// and jitter (capped), asks getToken for a new token after 4401, and stops
// for good after a kick (4403) or a close that a retry cannot mend. It sends
// an application-level ping when the node has been silent, for proxies
// that only count data frames, and gives up a connection whose ping gets
// no reply: a dead link that no close reached. A room joined while the
// cluster was out of reach ("local", no epoch) is joined again without
// since.
(function (global) {
  "use strict";

  class WsError extends Error {
    constructor(code, message, event) {
      super(message || "request failed with code " + code);
      this.name = "WsError";
      this.code = code;
      this.event = event;
    }
  }

  // stopCodes are the close codes after which reconnecting cannot help:
  // a normal close, a bug on one side (1002, 1007, 1008, 1009), a kick
  // (4403).
  const stopCodes = new Set([1000, 1002, 1007, 1008, 1009, 4403]);
  const tokenExpired = 4401;

  // callApp calls a function of the app's. Its exception is the app's bug:
  // reported as uncaught, it changes nothing of what the client does.
  function callApp(fn, ...args) {
    try {
      fn(...args);
    } catch (err) {
      setTimeout(() => {
        throw err;
      });
    }
  }

  class WsClient {
    constructor(url, options) {
      const o = options || {};
      this.url = url;
      this.token = o.token || "";
      this.onState = o.onState || function () {};
      this.getToken = o.getToken || null;
      this.minDelay = o.minDelay || 500;
      this.maxDelay = o.maxDelay || 15000;
      this.pingAfter = o.pingAfter || 20000;
      this.requestTimeout = o.requestTimeout || 10000;
      this.handlers = new Map();
      this.pending = new Map();
      this.nextId = 1;
      this.attempt = 0;
      this.openedAt = 0; // when the current socket opened, 0 until it does
      this.socket = null;
      this.stopped = false;
      this.lastTraffic = 0;
      this.timer = null;
      this.pinger = null;
      this.welcome = null;
      this.rooms = new Map(); // room -> {offset, epoch} of its stream
      this.connect();
    }

    // on registers fn for pushes of event ("welcome", "room.message", ...)
    // and returns a function that removes it.
    on(event, fn) {
      if (!this.handlers.has(event)) this.handlers.set(event, new Set());
      this.handlers.get(event).add(fn);
      return () => this.handlers.get(event).delete(fn);
    }

    // request sends event with data and resolves with the reply's data, or
    // rejects with a WsError carrying the reply's code.
    request(event, data, options) {
      const timeout = (options && options.timeout) || this.requestTimeout;
      return new Promise((resolve, reject) => {
        if (!this.isOpen()) {
          reject(new WsError(-1, "not connected", event));
          return;
        }
        const id = String(this.nextId++);
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new WsError(-1, "no reply within " + timeout + " ms", event));
        }, timeout);
        this.pending.set(id, { resolve, reject, timer, event, data });
        this.transmit({ id, event, data });
      });
    }

    // remember keeps the stream position of a room joined, and forgets a
    // room left.
    remember(event, data, reply) {
      if (event === "room.join" && reply && reply.room && !reply.epoch) {
        // Joined while the stream was out of reach ("local"): a room to
        // join again all the same, from no known position.
        if (!this.rooms.has(reply.room)) this.rooms.set(reply.room, { offset: 0, epoch: "" });
      } else if (event === "room.join" && reply && reply.epoch) {
        const known = this.rooms.get(reply.room);
        // A join without since of a room followed already: the stream's
        // messages move the position; the reply's offset is that of the
        // last one sent before it, handled already.
        if (known && reply.recovered === undefined) return;
        // A rejoin's replayed messages may have moved the offset past
        // the one the reply started from.
        const offset = known && known.epoch === reply.epoch ? Math.max(known.offset, reply.offset) : reply.offset;
        this.rooms.set(reply.room, { offset, epoch: reply.epoch });
      } else if (event === "room.leave" && data) {
        this.rooms.delete(data.room);
      }
    }

    // rejoin joins every remembered room again with since, after a
    // reconnect, and tells the app what each recovered.
    rejoin() {
      this.rooms.forEach((position, room) => {
        const since = { offset: position.offset, epoch: position.epoch };
        const before = position.offset;
        // A room joined without a position is joined again without since.
        this.request("room.join", position.epoch ? { room, since } : { room })
          .then((reply) => {
            if (this.stopped) return;
            const recovered = reply.recovered === true;
            const missed = recovered ? reply.offset - before : 0;
            this.emit("rejoined", {
              room, recovered, missed, offset: reply.offset, epoch: reply.epoch,
              members: reply.members, local: reply.local === true,
            });
          }, (err) => {
            // Only the request's failure: an exception of a "rejoined"
            // handler is the app's, not a refused rejoin.
            // Refused for good (51, the room cap): the client is not in
            // the room, and no later reconnect tries it again. A node too
            // busy or failing (the rate limit's 63, 50) and no reply (-1)
            // leave it for the next reconnect.
            if (this.stopped) return; // closed by the app: nothing to tell
            const passing = err.code === -1 || err.code === 50 ||
              (err.code === 63 && !String(err.message).includes("rooms.maxPerConnection"));
            if (!passing) this.rooms.delete(room);
            this.emit("rejoined", { room, recovered: false, missed: 0, error: err });
          });
      });
    }

    // send sends event without asking for a reply; failures still arrive as
    // "error" pushes to on("error").
    send(event, data) {
      if (!this.isOpen()) return false;
      this.transmit({ event, data });
      return true;
    }

    // close stops the client for good.
    close() {
      this.stopped = true;
      clearTimeout(this.timer);
      if (this.socket) this.socket.close(1000, "client closed");
      this.setState("closed");
    }

    isOpen() {
      return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
    }

    connect() {
      clearTimeout(this.timer);
      let url = this.url;
      if (this.token) url += (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(this.token);
      this.setState(this.attempt === 0 ? "connecting" : "reconnecting", { attempt: this.attempt });
      const socket = new WebSocket(url);
      this.socket = socket;
      socket.onopen = () => {
        this.openedAt = Date.now();
        this.lastTraffic = Date.now();
        this.startPinger();
      };
      socket.onmessage = (e) => this.receive(e.data);
      socket.onclose = (e) => this.lost(socket, e.code, e.reason);
    }

    // lost ends socket, closed with code, and reconnects or stops as the
    // code says.
    lost(socket, code, reason) {
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopPinger();
      this.failPending("connection closed (" + code + (reason ? " " + reason : "") + ")");
      // The backoff starts over only after a connection that lasted: a
      // node that accepts and closes at once is not dialled at minDelay
      // forever.
      if (this.openedAt && Date.now() - this.openedAt >= this.maxDelay) this.attempt = 0;
      const opened = this.openedAt !== 0;
      this.openedAt = 0;
      if (!this.stopped) this.afterClose(code, reason, opened);
    }

    // afterClose reconnects, renews the token first, or stops, as the
    // server's close code says. A socket that never opened may have been
    // refused for its token (401): a browser shows no handshake's status,
    // so with getToken the token is renewed before the next attempt.
    afterClose(code, reason, opened) {
      if (stopCodes.has(code) || (code === tokenExpired && !this.getToken)) {
        this.stopped = true;
        this.setState("closed", { code, reason });
        return;
      }
      if (code !== tokenExpired && (opened || !this.getToken)) {
        this.scheduleReconnect(code, reason);
        return;
      }
      Promise.resolve()
        .then(() => this.getToken())
        .then((token) => {
          // No token is no renewal: reconnecting without one would come
          // back as an anonymous user, in the rooms joined as this one.
          if (!token) throw new Error("getToken gave no token");
          this.token = token;
          if (!this.stopped) this.scheduleReconnect(code, reason);
        })
        .catch(() => {
          // Without a new token a 4401 is final; a socket that never
          // opened (offline, a node down) tries again with the old one.
          if (code === tokenExpired) {
            this.stopped = true;
            this.setState("closed", { code, reason });
          } else if (!this.stopped) {
            this.scheduleReconnect(code, reason);
          }
        });
    }

    scheduleReconnect(code, reason) {
      const ceiling = Math.min(this.maxDelay, this.minDelay * Math.pow(2, this.attempt));
      // Full jitter between half and all of the ceiling spreads the
      // reconnects of many clients after a node restarts.
      const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      this.attempt++;
      this.setState("reconnecting", { delay, attempt: this.attempt, code, reason });
      this.timer = setTimeout(() => this.connect(), delay);
    }

    receive(text) {
      this.lastTraffic = Date.now();
      let msg;
      try {
        msg = JSON.parse(text);
      } catch (err) {
        return;
      }
      if (msg.id !== undefined && msg.code === 0 && !this.pending.has(String(msg.id))) {
        // A reply its request gave up waiting for: the node joined or left
        // all the same, and a reconnect must know.
        this.remember(msg.event, msg.data, msg.data);
      }
      if (msg.id !== undefined && this.pending.has(String(msg.id))) {
        const p = this.pending.get(String(msg.id));
        this.pending.delete(String(msg.id));
        clearTimeout(p.timer);
        if (msg.code === 0) {
          // Before the pushes that follow the reply in the same read: a
          // promise's callbacks run only after them, and they would find
          // the room unknown, or move its position past the reply's.
          this.remember(p.event, p.data, msg.data);
          p.resolve(msg.data);
        } else {
          p.reject(new WsError(msg.code, msg.message, msg.event));
        }
        return;
      }
      if (msg.room !== undefined && msg.offset > 0) {
        const seen = this.advance(msg.room, msg.offset, msg.epoch);
        if (seen === "restarted") {
          this.emit("rejoined", {
            room: msg.room, restarted: true, recovered: false, missed: 0, offset: msg.offset, epoch: msg.epoch,
          });
        } else if (seen === "old") {
          return; // a message of the stream already handled
        }
      }
      if (msg.event === "welcome") {
        const reconnected = this.welcome !== null;
        this.welcome = msg.data;
        this.setState("connected", { welcome: msg.data });
        if (reconnected) this.rejoin();
      }
      const event = msg.code !== undefined && msg.code !== 0 ? "error" : msg.event;
      this.emit(event, event === "error" ? msg : msg.data, msg);
    }

    // advance moves a remembered room's position to offset, and reports
    // whether the message at offset is "new", "old" (handled already) or
    // the first of a stream "restarted" in a new epoch.
    advance(room, offset, epoch) {
      const position = this.rooms.get(room);
      if (!position) return "new";
      if (epoch && epoch !== position.epoch) {
        this.rooms.set(room, { offset, epoch });
        // A room joined without a position learns its stream here.
        return position.epoch ? "restarted" : "new";
      }
      if (offset <= position.offset) return "old";
      position.offset = offset;
      return "new";
    }

    // emit calls event's handlers. A handler's exception is the app's: it
    // is reported as uncaught, and neither stops the other handlers nor
    // the message (a "rejoined" thrown from must not drop the message
    // that restarted the stream).
    emit(event, payload, msg) {
      const fns = this.handlers.get(event);
      if (fns) fns.forEach((fn) => callApp(fn, payload, msg));
    }

    transmit(msg) {
      this.socket.send(JSON.stringify(msg));
    }

    // startPinger pings a connection the node has been silent on. A ping
    // with no reply in time means a dead link that no close reached (a
    // laptop asleep, a NAT that forgot the flow), which a browser may keep
    // "open" for many minutes: the socket is given up and the client
    // reconnects. What the client sends does not count as traffic: on a
    // dead link it goes nowhere.
    startPinger() {
      this.stopPinger();
      let pinging = false; // one ping at a time
      this.pinger = setInterval(() => {
        if (pinging || !this.isOpen() || Date.now() - this.lastTraffic < this.pingAfter) return;
        const socket = this.socket;
        pinging = true;
        this.request("ping", null).then(() => { pinging = false; }, (err) => {
          pinging = false;
          if (err.code === -1 && this.socket === socket) {
            socket.onmessage = null;
            socket.close();
            this.lost(socket, 1006, "no reply to ping");
          }
        });
      }, Math.max(1000, this.pingAfter / 4));
    }

    stopPinger() {
      clearInterval(this.pinger);
      this.pinger = null;
    }

    failPending(reason) {
      this.pending.forEach((p) => {
        clearTimeout(p.timer);
        p.reject(new WsError(-1, reason, p.event));
      });
      this.pending.clear();
    }

    setState(state, extra) {
      this.state = state;
      callApp(this.onState, Object.assign({ state }, extra || {}));
    }
  }

  global.WsClient = WsClient;
  global.WsError = WsError;
})(globalThis);
