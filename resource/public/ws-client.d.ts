// ws-client.d.ts: TypeScript declarations of ws-client.js, generated from the
// event contract (the structs of api/ws/v1). Do not edit: run make gen-client.

/** WsMessage is a frame as the server sent it, the second argument of an on() handler. */
export interface WsMessage {
  id?: string | number;
  event: string;
  code?: number;
  message?: string;
  data?: unknown;
  /** the room whose stream a stream push belongs to */
  room?: string;
  /** its place in the room's stream */
  offset?: number;
  /** the life of the stream that offset counts; a new one means the stream started again */
  epoch?: string;
}

/** ErrorReply is a refused request or send: on("error") gets the whole frame. */
export interface ErrorReply {
  id?: string | number;
  /** the request's event, or "error" */
  event: string;
  /** one of the server's error codes, or 300 and over: the event's own */
  code: number;
  /** what went wrong and how to fix it */
  message: string;
  data: null;
}

/**
 * Rejoined reports a room joined again after a reconnect, or the error that
 * kept it out, or a room whose stream started again under the client.
 */
export type Rejoined = RejoinedRoom | RejoinFailed | StreamRestarted;

/** RejoinedRoom is a rejoin that succeeded, with its join reply's position and count. */
export interface RejoinedRoom {
  room: string;
  /** true when every missed message was replayed before it */
  recovered: boolean;
  /** how many messages were replayed */
  missed: number;
  offset: number;
  epoch: string;
  members: number;
  /** true when members counts only this node's users */
  local: boolean;
  error?: undefined;
  restarted?: undefined;
}

/**
 * StreamRestarted is a room whose stream started again while the client was
 * in it (the server lost it, as Redis does when it restarts empty): messages
 * before offset may never have arrived, so the app reloads the room another
 * way. It comes before the first message of the new stream.
 */
export interface StreamRestarted {
  room: string;
  restarted: true;
  recovered: false;
  missed: 0;
  /** the first message's offset and the new epoch */
  offset: number;
  epoch: string;
  error?: undefined;
}

/** RejoinFailed is a rejoin the server refused or that got no reply. */
export interface RejoinFailed {
  room: string;
  recovered: false;
  missed: 0;
  /** why the join failed */
  error: WsError;
  restarted?: undefined;
}

/** Reply with the data that was sent */
export type EchoRequest = unknown;

/** The reply to echo. */
export type EchoReply = unknown;

/** Application-level heartbeat */
export type PingRequest = unknown;

/** The reply to ping. */
export interface PingReply {
  /** server time, unix milliseconds */
  time: number;
}

/** Join a room */
export interface RoomJoinRequest {
  /** rules: required|room */
  room: string;
  /** the last offset and epoch received in this room; the messages after it are replayed before the reply */
  since?: {
    /** the epoch the join reply gave; rules: max-length:64 */
    epoch?: string;
    /** offset of the last message received */
    offset?: number;
  };
}

/** The reply to room.join. */
export interface RoomJoinReply {
  /** the life of the room's stream; a new one means the history was lost */
  epoch: string;
  /** true when members counts only this node's users: the other nodes are out of reach */
  local?: boolean;
  /** users in the room, on every node */
  members: number;
  /** the room's last offset; live messages follow it */
  offset: number;
  /** with since: true when every missed message was replayed before this reply */
  recovered?: boolean;
  room: string;
}

/** Leave a room */
export interface RoomLeaveRequest {
  /** rules: required|room */
  room: string;
}

/** The reply to room.leave. */
export interface RoomLeaveReply {
  room: string;
}

/** List a room's users, a page at a time */
export interface RoomMembersRequest {
  /** the next value of the previous page; rules: max-length:256 */
  after?: string;
  /** users per page; rules: between:1,1000; default 100 */
  limit?: number;
  /** rules: required|room */
  room: string;
}

/** The reply to room.members. */
export interface RoomMembersReply {
  /** users in the room */
  count: number;
  /** pass as after for the next page; absent on the last */
  next?: string;
  room: string;
  users: string[];
}

/** Send a message to a room */
export interface RoomSendRequest {
  /** rules: required|room */
  room: string;
  /** rules: required|length:1,4096 */
  text: string;
}

/** The reply to room.send. */
export interface RoomSendReply {
  /** true when only this node's members got it: the other nodes are out of reach */
  local?: boolean;
  /** the message's offset in the room's stream */
  offset?: number;
  room: string;
}

/** Send a message to a user */
export interface UserSendRequest {
  /** rules: required|length:1,4096 */
  text: string;
  /** rules: required|length:1,256 */
  to: string;
}

/** The reply to user.send. */
export interface UserSendReply {
  to: string;
}

/** A user joined a room you are in */
export interface RoomJoinedPush {
  room: string;
  /** the user who joined */
  userId: string;
}

/** A user left a room you are in */
export interface RoomLeftPush {
  room: string;
  /** the user who left, or who was on a node that died (its presence lapsed) */
  userId: string;
}

/** A message sent to a room you are in */
export interface RoomMessagePush {
  /** the sender's user id */
  from: string;
  room: string;
  text: string;
  /** when the server took it, unix milliseconds */
  ts: number;
}

/** A message sent to your user */
export interface UserMessagePush {
  /** the sender's user id */
  from: string;
  text: string;
  /** when the server took it, unix milliseconds */
  ts: number;
}

/** The first message of every connection */
export interface WelcomePush {
  /** this connection's id, as the admin API names it */
  connId: string;
  /** the node that holds the connection */
  node: string;
  /** how often the server sends a ping frame, in milliseconds */
  pingInterval: number;
  /** the token's sub, or anon-<connId> without a token */
  userId: string;
}

/** EventMap names each event's request and reply data. */
export interface EventMap {
  "echo": { request: EchoRequest; reply: EchoReply };
  "ping": { request: PingRequest; reply: PingReply };
  "room.join": { request: RoomJoinRequest; reply: RoomJoinReply };
  "room.leave": { request: RoomLeaveRequest; reply: RoomLeaveReply };
  "room.members": { request: RoomMembersRequest; reply: RoomMembersReply };
  "room.send": { request: RoomSendRequest; reply: RoomSendReply };
  "user.send": { request: UserSendRequest; reply: UserSendReply };
}

/**
 * PushMap names the data each on() handler gets: the server's pushes, and the
 * client's own rejoined and error. An application's own pushes (POST
 * /api/v1/push) are added by augmenting it: declare module "./ws-client.js" {
 * interface PushMap { "orders.shipped": { id: string } } }.
 */
export interface PushMap {
  "error": ErrorReply;
  "rejoined": Rejoined;
  "room.joined": RoomJoinedPush;
  "room.left": RoomLeftPush;
  "room.message": RoomMessagePush;
  "user.message": UserMessagePush;
  "welcome": WelcomePush;
}

/** WsState is what onState gets on each change of the connection. */
export type WsState =
  /** an attempt to connect, or (with delay) the wait before the next one */
  | {
      state: "connecting" | "reconnecting";
      attempt: number;
      /** milliseconds until the next attempt */
      delay?: number;
      /** the close that caused the wait */
      code?: number;
      reason?: string;
    }
  | { state: "connected"; welcome: PushMap["welcome"] }
  /** code is the server's close code, absent after close() */
  | { state: "closed"; code?: number; reason?: string };

/** WsClientOptions are WsClient's options; each has a default. */
export interface WsClientOptions {
  /** sent as ?token= (browsers cannot set headers) */
  token?: string;
  onState?: (state: WsState) => void;
  /** asked for a new token after close code 4401 (token expired), and after a connection that never opened (a refused handshake) */
  getToken?: () => string | Promise<string>;
  /** first reconnect delay, milliseconds */
  minDelay?: number;
  /** longest reconnect delay, milliseconds */
  maxDelay?: number;
  /** silence of the node after which the client sends a ping, milliseconds; a ping with no reply within requestTimeout gives the connection up */
  pingAfter?: number;
  /** how long request() waits for a reply, milliseconds */
  requestTimeout?: number;
}

/** WsError is a refused or failed request: code is the reply's, or -1 without a reply. */
export declare class WsError extends Error {
  constructor(code: number, message?: string, event?: string);
  code: number;
  event?: string;
}

/** WsClient is one connection that reconnects and rejoins its rooms by itself. */
export declare class WsClient {
  constructor(url: string, options?: WsClientOptions);
  state?: WsState["state"];
  /**
   * on registers fn for event and returns a function that removes it. msg is
   * the frame as the server sent it; the client's own rejoined has none.
   */
  on<P extends keyof PushMap>(
    event: P,
    fn: (data: PushMap[P], msg: P extends "rejoined" ? undefined : WsMessage) => void,
  ): () => void;
  /** request sends event and resolves with the reply's data, or rejects with a WsError. */
  request<E extends keyof EventMap>(
    event: E,
    data: EventMap[E]["request"],
    options?: { timeout?: number },
  ): Promise<EventMap[E]["reply"]>;
  /** send sends event without asking for a reply and reports whether it was sent. */
  send<E extends keyof EventMap>(event: E, data: EventMap[E]["request"]): boolean;
  /** close closes the connection for good. */
  close(): void;
}

export default WsClient;

// As a plain script, ws-client.js defines both classes on globalThis; a
// script that references this file gets them as globals.
declare global {
  var WsClient: typeof import("./ws-client").WsClient;
  var WsError: typeof import("./ws-client").WsError;
}
