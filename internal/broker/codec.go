package broker

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
)

// maxUint64Digits is how many digits a uint64 has at most in decimal.
const maxUint64Digits = 20

// encodeMessage lays m out as kind, then origin, target and frame, each
// prefixed with its length, so that no value needs escaping. A room
// stream's message is followed by its offset in decimal, a space and its
// stream's epoch, which the append script adds: Redis assigns them. A
// presence push is followed by "p" and its version in decimal.
func encodeMessage(m Message) []byte {
	// The kind, three lengths and values, then room for 'p' and a version.
	b := make([]byte, 0, 1+3*binary.MaxVarintLen32+len(m.Origin)+len(m.Target)+len(m.Frame)+1+maxUint64Digits)
	b = append(b, byte(m.Kind))
	for _, part := range [][]byte{[]byte(m.Origin), []byte(m.Target), m.Frame} {
		b = binary.AppendUvarint(b, uint64(len(part)))
		b = append(b, part...)
	}
	if m.Presence > 0 {
		b = strconv.AppendUint(append(b, 'p'), m.Presence, 10)
	}
	return b
}

func decodeMessage(payload string) (Message, error) {
	b := []byte(payload)
	if len(b) < 1 {
		return Message{}, errors.New("empty payload")
	}
	m := Message{Kind: Kind(b[0])}
	b = b[1:]
	parts := make([][]byte, 3)
	for i := range parts {
		n, size := binary.Uvarint(b)
		if size <= 0 || uint64(len(b)-size) < n {
			return Message{}, errors.New("truncated payload")
		}
		parts[i] = b[size : size+int(n)]
		b = b[size+int(n):]
	}
	m.Origin, m.Target, m.Frame = string(parts[0]), string(parts[1]), parts[2]
	if len(b) > 0 && b[0] == 'p' {
		version, err := strconv.ParseUint(string(b[1:]), 10, 64)
		if err != nil || version == 0 {
			return Message{}, errors.New("bad presence version")
		}
		m.Presence = version
	} else if len(b) > 0 {
		at, epoch, _ := strings.Cut(string(b), " ")
		offset, err := strconv.ParseUint(at, 10, 64)
		if err != nil || offset == 0 {
			return Message{}, errors.New("bad stream offset")
		}
		m.Offset, m.Epoch = offset, epoch
	}
	return m, nil
}
