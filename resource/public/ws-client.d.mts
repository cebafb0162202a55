// ws-client.d.mts: TypeScript declarations of ws-client.mjs, the ES module
// entry of ws-client.js. The types are those of ws-client.d.ts, which make
// gen-client writes from the event contract; this file only re-exports them.
export * from "./ws-client.js";
export { default } from "./ws-client.js";
