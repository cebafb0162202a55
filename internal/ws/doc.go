// Package ws is the WebSocket transport of the template: the handshake on
// the `/ws` route, one Conn per client, the JSON envelope and the event
// router that calls controller methods.
//
// gorilla/websocket performs the handshake and reads frames. The server
// writes its own frames (frame.go, socket.go): that is what lets a close
// frame follow everything queued before it, even when gorilla is the one
// that found the protocol error.
//
// accept.go checks a handshake (check) and upgrades it; lifecycle.go holds
// a connection's life in order, from attach to closed; read.go and write.go
// are its two goroutines.
//
// Concurrency rules, which every change to this package keeps:
//
//   - Each Conn has one reader goroutine for its whole life, and a writer
//     goroutine only while messages wait in its queue: an idle connection
//     holds no writer, no write buffer and no timer. Only the writer writes
//     to the socket while the connection is open; pongs and pings go
//     through the queue like messages. Other goroutines hand it messages
//     through Conn.Send, a bounded queue that never blocks the caller.
//   - The queue is bounded in messages (ws.sendQueueSize) and in bytes
//     (ws.sendQueueBytes); the writer joins a burst into writes of at most
//     64 KiB. Past either bound the connection is condemned as a slow
//     consumer (4008): its queue is dropped and a write under way on its
//     full socket has half a second to finish, so one stuck client neither
//     stalls a broadcast nor holds its memory until ws.writeTimeout.
//   - The read deadline is set right after the upgrade and extended on every
//     frame and pong, so a silent peer is dropped after Config.PongTimeout.
//     One ticker per Server queues the pings. Pings from the client count
//     against the rate limit like messages.
//   - Every way a connection ends goes through one teardown goroutine,
//     started by the first Close or failure. A close the server starts
//     (Close, drain, kick, token expiry, a protocol error the reader found)
//     and the answer to a peer's close are written after what was queued
//     before them, within ws.writeTimeout; Send refuses anything queued
//     after. Then the teardown sends the close frame, waits briefly for the
//     peer's answer, closes the socket, waits for the reader and
//     unregisters the Conn exactly once. A slow consumer and a dead socket
//     skip the flush.
//   - Handlers run on the reader goroutine, one message at a time, so a
//     connection's requests are handled in the order they were sent.
//
// After the upgrade no ghttp code runs for the connection again: the
// request context is replaced by one derived from gctx.NeverDone that ends
// when the connection closes.
package ws
