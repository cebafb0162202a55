package ws_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

// replayer answers "replay" as a join with since does: a replay of as many
// messages as the send queue holds, then the reply.
type replayer struct {
	frames int
	size   int
}

func (replayer) Open(*ws.Conn) {}

func (r replayer) HandleMessage(c *ws.Conn, _ bool, data []byte) {
	if string(data) != "replay" {
		return
	}
	frames := make([]*ws.Frame, r.frames)
	for i := range frames {
		frames[i] = ws.NewFrame(append([]byte(numbered(i)+" "), bytes.Repeat([]byte("x"), r.size)...))
	}
	c.SendReplay(frames...)
	c.Send([]byte("reply"))
}

// rooms.history.size may be as large as ws.sendQueueSize, so a replay may
// fill the whole queue: it goes out, and so does the reply after it, once
// the client has read the replay, without closing the client as a slow
// consumer.
func TestReplayAsLargeAsTheQueueIsFollowedByItsReply(t *testing.T) {
	t.Parallel()
	cfg := ws.DefaultConfig()
	cfg.SendQueueSize = 4
	const size = 64 << 10
	url, _, opened := serveTransport(t, cfg, replayer{frames: cfg.SendQueueSize, size: size})
	client := wstest.Dial(t, url, nil)
	accepted(t, opened)
	client.SendRaw(websocket.TextMessage, []byte("replay"))
	readTexts(t, client, cfg.SendQueueSize+1, func(i int) string {
		if i == cfg.SendQueueSize {
			return "reply"
		}
		return fmt.Sprintf("%s %s", numbered(i), bytes.Repeat([]byte("x"), size))
	})
}
