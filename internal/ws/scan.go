package ws

import "encoding/binary"

// frameScanner follows the frame headers of what a client sends, as
// gorilla reads it, to catch what gorilla lets through: a close frame whose
// payload is a single byte, which RFC 6455 section 5.5.1 forbids but
// gorilla reads as a close without a code. It runs on the reader goroutine
// only and costs a few operations per frame header.
type frameScanner struct {
	header   [14]byte // 2 fixed bytes, up to 8 of length, 4 of mask
	have     int      // header bytes collected so far
	skip     uint64   // payload bytes left in the current frame
	badClose bool     // a close frame with a 1-byte payload arrived
}

func (s *frameScanner) feed(p []byte) {
	for len(p) > 0 {
		if s.skip > 0 {
			n := min(uint64(len(p)), s.skip)
			s.skip -= n
			p = p[n:]
			continue
		}
		s.header[s.have] = p[0]
		s.have++
		p = p[1:]
		if s.have < 2 || s.have < s.headerLen() {
			continue
		}
		length := s.payloadLen()
		if s.header[0]&0xf == opClose && length == 1 {
			s.badClose = true
		}
		s.skip, s.have = length, 0
	}
}

// headerLen is the size of the header whose first two bytes are in.
func (s *frameScanner) headerLen() int {
	n := 2
	switch s.header[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if s.header[1]&0x80 != 0 {
		n += 4
	}
	return n
}

func (s *frameScanner) payloadLen() uint64 {
	switch n := s.header[1] & 0x7f; n {
	case 126:
		return uint64(binary.BigEndian.Uint16(s.header[2:4]))
	case 127:
		return binary.BigEndian.Uint64(s.header[2:10])
	default:
		return uint64(n)
	}
}
