package ws

import "bytes"

// Echo is a Handler that sends every message back as it came, text as
// text and binary as binary, and no welcome: the server conformance suites
// expect (see hack/conformance).
type Echo struct{}

// Open sends nothing: a conformance suite's first message must be its own
// echo.
func (Echo) Open(*Conn) {}

// HandleMessage queues a copy of data back to c.
func (Echo) HandleMessage(c *Conn, binary bool, data []byte) {
	if binary {
		c.SendBinary(bytes.Clone(data))
		return
	}
	c.Send(bytes.Clone(data))
}
