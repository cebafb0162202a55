package wstest

import (
	"testing"

	"github.com/gorilla/websocket"
)

// Wrap makes a Client of a connection the test dialled itself, such as one
// over TLS or through a proxy, closing it when the test ends.
func Wrap(t testing.TB, conn *websocket.Conn) *Client {
	t.Cleanup(func() { _ = conn.Close() })
	return &Client{Conn: conn, t: t}
}
