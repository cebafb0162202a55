package wstest

import (
	"net"
	"sync"
	"testing"
)

// Relay listens on a loopback port and relays each connection to target:
// send copies what the client sends to the target, answer what the target
// answers back; each returns when a read or a write fails. Tests wrap
// them to hold, split or watch the traffic. The relay stops when the test
// ends, after the cleanups registered after it (which let held copies
// go); it returns its address.
func Relay(t testing.TB, target string, send, answer func(to, from net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var relays sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	relays.Add(1)
	go func() {
		defer relays.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				_ = client.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, client, server)
			mu.Unlock()
			relays.Add(2)
			go func() {
				defer relays.Done()
				answer(client, server)
				_ = client.Close()
			}()
			go func() {
				defer relays.Done()
				send(server, client)
				_ = server.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		relays.Wait()
	})
	return ln.Addr().String()
}
