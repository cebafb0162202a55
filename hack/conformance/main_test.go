package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/wstest"
)

// The server echoes text and binary messages verbatim, large ones and
// compressed ones too, with no welcome before the first echo.
func TestEchoesEveryMessageVerbatim(t *testing.T) {
	port := wstest.FreePort(t)
	s, err := serve(fmt.Sprintf("127.0.0.1:%d", port), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.transport.Drain(wstest.ShutdownContext(t))
		_ = s.Shutdown()
	})
	url := fmt.Sprintf("ws://127.0.0.1:%d/", port)
	for _, compress := range []bool{false, true} {
		dialer := *websocket.DefaultDialer
		dialer.EnableCompression = compress
		c := wstest.DialWith(t, &dialer, url, nil)
		for _, m := range []struct {
			kind int
			data []byte
		}{
			{websocket.TextMessage, []byte("hello")},
			{websocket.BinaryMessage, []byte{0, 1, 2, 0xff}},
			{websocket.TextMessage, []byte(strings.Repeat("é", 4<<20))}, // 8 MB
			{websocket.TextMessage, nil},
		} {
			c.SendRaw(m.kind, m.data)
			_ = c.SetReadDeadline(time.Now().Add(wstest.Timeout))
			kind, got, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if kind != m.kind || !bytes.Equal(got, m.data) {
				t.Fatalf("compression %v: sent %d bytes of type %d, got %d bytes of type %d", compress, len(m.data), m.kind, len(got), kind)
			}
		}
		if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
			time.Now().Add(wstest.Timeout)); err != nil {
			t.Fatal(err)
		}
		c.ExpectClose(websocket.CloseNormalClosure)
	}
}
