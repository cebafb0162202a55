package ws

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"sync"
)

// Opcodes and header bits of RFC 6455 section 5.2 that the server writes.
const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xa

	finalBit = 0x80
	rsv1Bit  = 0x40 // the frame is compressed (permessage-deflate)

	maxFrameHeader = 10 // a server frame is never masked
)

// appendHeader appends the header of an unfragmented server frame with a
// payload of n bytes.
func appendHeader(b []byte, op byte, compressed bool, n int) []byte {
	first := finalBit | op
	if compressed {
		first |= rsv1Bit
	}
	switch {
	case n <= 125:
		return append(b, first, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, first, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, first, 127), uint64(n))
	}
}

// appendFrame appends a whole server frame.
func appendFrame(b []byte, op byte, compressed bool, payload []byte) []byte {
	return append(appendHeader(b, op, compressed, len(payload)), payload...)
}

// Frame is a text message encoded once for many receivers: a broadcast
// builds one Frame and every connection writes the same bytes. Its methods
// are safe for concurrent use.
type Frame struct {
	payload []byte

	// Each form is built once, by the first receiver that needs it: a
	// delivery nobody on this node takes costs no copy.
	plainOnce   sync.Once
	plain       []byte // the whole frame, uncompressed
	deflateOnce sync.Once
	deflated    []byte // the whole frame, compressed
}

// NewFrame makes text a frame for many receivers. text must not change
// afterwards.
func NewFrame(text []byte) *Frame {
	return &Frame{payload: text}
}

// Text returns the message. It must not be changed.
func (f *Frame) Text() []byte { return f.payload }

// Len returns the size of the message, which is what it counts for in a
// connection's send queue.
func (f *Frame) Len() int { return len(f.payload) }

// bytes returns the encoded frame for a connection that did or did not
// negotiate compression.
func (f *Frame) bytes(compress bool) []byte {
	if !compress {
		f.plainOnce.Do(func() {
			f.plain = appendFrame(make([]byte, 0, maxFrameHeader+len(f.payload)), opText, false, f.payload)
		})
		return f.plain
	}
	f.deflateOnce.Do(func() {
		packed := deflate(f.payload)
		f.deflated = appendFrame(make([]byte, 0, maxFrameHeader+len(packed)), opText, true, packed)
	})
	return f.deflated
}

// flateWriters are reused: a flate.Writer holds hundreds of kilobytes.
var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// deflate compresses one message for permessage-deflate without context
// takeover (RFC 7692 section 7.2.1): a raw deflate stream, flushed, without
// the final empty block's 00 00 ff ff.
func deflate(p []byte) []byte {
	var buf bytes.Buffer
	w := flateWriters.Get().(*flate.Writer)
	w.Reset(&buf)
	_, _ = w.Write(p)
	_ = w.Flush()
	flateWriters.Put(w)
	out := buf.Bytes()
	return out[:len(out)-4]
}
