// Package ws is the WebSocket transport of the template: the handshake on
// the `/ws` route, one Conn per client, the JSON envelope and the event
// router that calls controller methods.
//
// Concurrency rules, which every change to this package keeps:
//
//   - Each Conn has one reader goroutine for its whole life, and a writer
//     goroutine only while messages wait in its queue: an idle connection
//     holds no writer, no write buffer and no timer. Only the writer writes
//     data frames; other goroutines hand it messages through Conn.Send, a
//     bounded queue that never blocks the caller. The only other writes to
//     the socket are gorilla's WriteControl calls for pongs and the close
//     frame, which gorilla serialises with the writer's.
//   - A full queue closes that connection with 1008 (slow consumer); it never
//     blocks the sender, so one stuck client cannot stall a broadcast.
//   - The read deadline is set right after the upgrade and extended on every
//     frame and pong, so a silent peer is dropped after Config.PongTimeout.
//     One ticker per Server queues the pings.
//   - Every way a connection ends goes through one teardown goroutine,
//     started by the first Close or failure: it waits for the writer, sends
//     the close frame when one is owed, closes the socket, waits for the
//     reader and unregisters the Conn exactly once.
//   - Handlers run on the reader goroutine, one message at a time, so a
//     connection's requests are handled in the order they were sent.
//
// After the upgrade no ghttp code runs for the connection again: the
// request context is replaced by one derived from gctx.NeverDone that ends
// when the connection closes.
package ws
