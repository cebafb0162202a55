package edge

import (
	"net/netip"
	"testing"
)

func TestClientNetwork(t *testing.T) {
	for addr, want := range map[string]string{
		"203.0.113.5":          "203.0.113.5",
		"::ffff:203.0.113.5":   "203.0.113.5",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::ffff":   "2001:db8:1:2::/64",
		"::1":                  "::/64",
		"not an address":       "not an address",
		"fe80::1%eth0":         "fe80::/64",
	} {
		if got := ClientNetworkName(addr); got != want {
			t.Errorf("ClientNetworkName(%q) = %q, want %q", addr, got, want)
		}
	}
	a, b := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2:1")
	if ClientNetwork(a) != ClientNetwork(b) {
		t.Errorf("%s and %s are counted apart", a, b)
	}
	if c := netip.MustParseAddr("2001:db8:0:1::1"); ClientNetwork(a) == ClientNetwork(c) {
		t.Errorf("%s and %s, two /64s, are counted as one", a, c)
	}
}
