package wstest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// RawResponse is an HTTP answer read off a raw socket.
type RawResponse struct {
	Status int
	Header http.Header
	Body   string
}

// RawRequest writes request text as is to addr (host:port) and reads the
// response, for requests net/http's client will not send, such as HTTP/1.0
// with WebSocket headers. Lines are joined with CRLF.
func RawRequest(t testing.TB, addr string, lines ...string) RawResponse {
	t.Helper()
	conn := dialRaw(t, addr)
	defer conn.Close()
	if _, err := io.WriteString(conn, strings.Join(lines, "\r\n")+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return RawResponse{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// dialRaw opens a TCP connection to addr whose reads and writes end within
// Timeout.
func dialRaw(t testing.TB, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(Timeout))
	return conn
}

// HTTP is the client tests use for plain requests. It keeps no idle
// connections, so the goroutine-leak check sees none of its own.
var HTTP = &http.Client{Timeout: Timeout, Transport: &http.Transport{DisableKeepAlives: true}}
