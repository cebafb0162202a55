// ES module entry of ws-client.js: import { WsClient } from "/ws-client.mjs";
import "./ws-client.js";

export const WsClient = globalThis.WsClient;
export const WsError = globalThis.WsError;
export default WsClient;
