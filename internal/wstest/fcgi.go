package wstest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
)

// FastCGI record types used by a responder request.
const (
	fcgiBeginRequest = 1
	fcgiEndRequest   = 3
	fcgiParams       = 4
	fcgiStdin        = 5
	fcgiStdout       = 6
	fcgiResponder    = 1
)

// FastCGIGet sends one GET for uri with the given HTTP headers to a FastCGI
// responder at addr, as a web server such as nginx would, and returns the
// response.
func FastCGIGet(t testing.TB, addr, uri string, header map[string]string) RawResponse {
	t.Helper()
	conn := dialRaw(t, addr)
	defer conn.Close()

	params := map[string]string{
		"REQUEST_METHOD":  "GET",
		"REQUEST_URI":     uri,
		"SCRIPT_NAME":     uri,
		"SERVER_PROTOCOL": "HTTP/1.1",
		"REMOTE_ADDR":     "127.0.0.1",
		"REMOTE_PORT":     "50000",
		"SERVER_NAME":     "localhost",
		"SERVER_PORT":     "80",
	}
	for name, value := range header {
		params["HTTP_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_"))] = value
	}
	var body bytes.Buffer
	for name, value := range params {
		writeFCGILength(&body, len(name))
		writeFCGILength(&body, len(value))
		body.WriteString(name)
		body.WriteString(value)
	}
	var out bytes.Buffer
	writeFCGIRecord(&out, fcgiBeginRequest, []byte{0, fcgiResponder, 0, 0, 0, 0, 0, 0})
	writeFCGIRecord(&out, fcgiParams, body.Bytes())
	writeFCGIRecord(&out, fcgiParams, nil)
	writeFCGIRecord(&out, fcgiStdin, nil)
	if _, err := conn.Write(out.Bytes()); err != nil {
		t.Fatal(err)
	}

	var stdout bytes.Buffer
	for {
		var head [8]byte
		if _, err := io.ReadFull(conn, head[:]); err != nil {
			t.Fatalf("read FastCGI record: %v", err)
		}
		content := make([]byte, int(binary.BigEndian.Uint16(head[4:6]))+int(head[6]))
		if _, err := io.ReadFull(conn, content); err != nil {
			t.Fatalf("read FastCGI record: %v", err)
		}
		content = content[:binary.BigEndian.Uint16(head[4:6])]
		switch head[1] {
		case fcgiStdout:
			stdout.Write(content)
		case fcgiEndRequest:
			return parseCGIResponse(t, stdout.Bytes())
		}
	}
}

func writeFCGIRecord(w *bytes.Buffer, kind byte, content []byte) {
	w.Write([]byte{1, kind, 0, 1})
	_ = binary.Write(w, binary.BigEndian, uint16(len(content)))
	w.Write([]byte{0, 0})
	w.Write(content)
}

func writeFCGILength(w *bytes.Buffer, n int) {
	if n < 128 {
		w.WriteByte(byte(n))
		return
	}
	_ = binary.Write(w, binary.BigEndian, uint32(n)|1<<31)
}

func parseCGIResponse(t testing.TB, raw []byte) RawResponse {
	t.Helper()
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	mime, err := r.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("parse FastCGI response %q: %v", raw, err)
	}
	status := http.StatusOK
	if s := mime.Get("Status"); s != "" {
		status, err = strconv.Atoi(strings.Fields(s)[0])
		if err != nil {
			t.Fatalf("bad Status %q", s)
		}
	}
	body, _ := io.ReadAll(r.R)
	return RawResponse{Status: status, Header: http.Header(mime), Body: string(body)}
}
