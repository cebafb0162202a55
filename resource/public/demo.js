// @ts-check
/// <reference path="./ws-client.d.ts" />
// demo.js: the script of the demo page (index.html), on the bundled client
// ws-client.js, which the page loads first as a plain script. tsc checks
// it against ws-client.d.ts (TestDemoPageScriptTypeChecks in
// internal/contract), so every request and handler below fits the event
// contract: a renamed event or field fails the test, not the page.
"use strict";

// The page has every id the script names, so these never return null.
/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** @param {string} id */
const field = (id) => /** @type {HTMLInputElement} */ ($(id));
/** @param {string} id */
const button = (id) => /** @type {HTMLButtonElement} */ ($(id));

// "/ws" is the shipped ws.path: change both together.
const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
const token = new URLSearchParams(location.search).get("token") || "";
const pageSize = 50;
let joined = "";
let me = "";
// The room's size: from the join reply, then moved by room.joined and
// room.left, which the server sends only while the room is small; a
// members page or Refresh counts it again.
let count = 0;
let countIsLocal = false;
// The members shown, by user id, and where the next page starts ("" when
// the list is complete or not loaded).
/** @type {Map<string, HTMLLIElement>} */
const shown = new Map();
let listed = false;
let next = "";

/**
 * line appends a log entry; pieces are strings or elements, never HTML.
 * @param {string} cls
 * @param {...(string | Node)} pieces
 */
function line(cls, ...pieces) {
  const li = document.createElement("li");
  if (cls) li.className = cls;
  li.append(...pieces);
  $("log").appendChild(li);
  $("log").scrollTop = $("log").scrollHeight;
}
/**
 * @param {string} cls
 * @param {string} text
 */
function span(cls, text) {
  const s = document.createElement("span");
  s.className = cls;
  s.textContent = text;
  return s;
}
/** @param {number} [ts] unix milliseconds; now without it */
function clock(ts) {
  return new Date(ts || Date.now()).toLocaleTimeString();
}

/**
 * @param {number} n
 * @param {boolean} local
 */
function setCount(n, local) {
  count = n;
  countIsLocal = local;
  $("member-count").textContent = n + (n === 1 ? " member" : " members") + (local ? " (this node only)" : "");
}

function clearMembers() {
  $("members").replaceChildren();
  shown.clear();
  listed = false;
  next = "";
  $("more-members").hidden = true;
}
/** @param {string} user */
function memberItem(user) {
  const li = document.createElement("li");
  li.textContent = user;
  if (user === me) li.className = "you";
  shown.set(user, li);
  return li;
}
/**
 * insertMember puts a user who joined into the list, in the server's
 * order, unless it is shown already.
 * @param {string} user
 */
function insertMember(user) {
  if (shown.has(user)) return;
  // An element's textContent is never null; the ?? is for the compiler.
  const later = Array.from($("members").children).find((li) => (li.textContent ?? "") > user) || null;
  $("members").insertBefore(memberItem(user), later);
}
/**
 * loadMembers shows the first page of the room's users, or with after
 * (the previous page's next) the page that follows.
 * @param {string} after
 */
async function loadMembers(after) {
  const room = joined;
  const res = await client.request("room.members", after ? { room, limit: pageSize, after } : { room, limit: pageSize });
  if (room !== joined) return;
  if (!after) clearMembers();
  // A page starts after every user shown so far: it goes at the end.
  for (const user of res.users) if (!shown.has(user)) $("members").append(memberItem(user));
  listed = true;
  next = res.next || "";
  $("more-members").hidden = !next;
  // A first page counts the room again; after it, room.joined and
  // room.left keep the count, and a later page's count may include a
  // join whose push is still on its way.
  if (!after) setCount(res.count, false);
}
async function refreshCount() {
  const room = joined;
  const res = await client.request("room.members", { room, limit: 1 });
  if (room === joined) setCount(res.count, false);
}

/**
 * enableRoomControls turns on what needs a room and a connection.
 * @param {boolean} on
 */
function enableRoomControls(on) {
  for (const id of ["send", "refresh-count", "list-members", "more-members"]) button(id).disabled = !on;
}

/** @param {string} room */
async function join(room) {
  const res = await client.request("room.join", { room });
  joined = res.room;
  $("room-name").textContent = joined;
  enableRoomControls(true);
  clearMembers();
  setCount(res.members, res.local === true);
  line("system", "joined " + joined);
}

const client = new WsClient(url, {
  token,
  onState(s) {
    const status = $("status");
    status.className = s.state === "connected" ? "connected" : "";
    if (s.state === "connected") {
      me = s.welcome.userId;
      status.textContent = "connected as " + me + " on " + s.welcome.node;
      // Back after a reconnect, the client joins the room again itself,
      // with the stream position it reached: see "rejoined".
    } else if (s.state === "reconnecting" && s.delay !== undefined) {
      status.textContent = "reconnecting in " + (s.delay / 1000).toFixed(1) + "s (attempt " + s.attempt + ")";
      enableRoomControls(false);
    } else if (s.state === "closed" && s.code) {
      // A kick or a bug: reconnecting would not help.
      status.textContent = "closed by the server (" + s.code + (s.reason ? " " + s.reason : "") + "): reload to connect again";
      enableRoomControls(false);
    } else {
      status.textContent = s.state;
    }
  },
});

client.on("room.message", (m) => {
  if (m.room !== joined) return;
  line("", span("meta", clock(m.ts)), span("from", m.from), m.text);
});
client.on("room.joined", (m) => {
  if (m.room !== joined) return;
  line("system", m.userId + " joined at " + clock());
  setCount(count + 1, countIsLocal);
  // Pages after the last one shown will bring later users.
  if (listed && (!next || m.userId < next)) insertMember(m.userId);
});
client.on("room.left", (m) => {
  if (m.room !== joined) return;
  line("system", m.userId + " left at " + clock());
  // No floor of one for the page itself: a join counted without its own
  // user, whose other connection was still on its way in, hears that
  // user join after the room's last other user left.
  setCount(Math.max(count - 1, 0), countIsLocal);
  const li = shown.get(m.userId);
  if (li) {
    li.remove();
    shown.delete(m.userId);
  }
});
// The client took the room up again after a reconnect; the messages
// missed meanwhile have come through room.message already, in order. Or
// the room's stream started again under the page (the server lost it).
client.on("rejoined", (r) => {
  if (r.room !== joined) return;
  if (r.error) {
    line("system", "rejoin failed: " + r.error.message);
    return;
  }
  if (r.restarted) {
    line("system", "the server lost " + r.room + "'s recent messages: some may be missing above");
    return;
  }
  enableRoomControls(true);
  clearMembers();
  setCount(r.members, r.local === true);
  line("system", r.recovered ? "back in " + r.room + ": recovered " + r.missed + (r.missed === 1 ? " message" : " messages")
                             : "back in " + r.room + ": the messages sent meanwhile could not be recovered");
});
client.on("error", (m) => line("system", "error " + m.code + ": " + m.message));

$("join").onclick = () => {
  const room = field("room").value.trim();
  const previous = joined;
  // The room in use is left only once the new one is joined: a refused
  // join keeps the page where it was.
  join(room)
    .then(() => {
      if (previous && previous !== room) client.request("room.leave", { room: previous }).catch(() => {});
    })
    .catch((e) => line("system", "cannot join: " + e.message));
};
$("refresh-count").onclick = () => refreshCount().catch((e) => line("system", "cannot count members: " + e.message));
$("list-members").onclick = () => loadMembers("").catch((e) => line("system", "cannot list members: " + e.message));
$("more-members").onclick = () => loadMembers(next).catch((e) => line("system", "cannot list members: " + e.message));
function send() {
  const text = field("text").value;
  if (!text || !joined) return;
  client.request("room.send", { room: joined, text })
    .then(() => { field("text").value = ""; })
    .catch((e) => line("system", "not sent: " + e.message));
}
$("send").onclick = send;
$("text").addEventListener("keydown", (e) => { if (e.key === "Enter") send(); });
