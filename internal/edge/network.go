package edge

import "net/netip"

// ClientNetwork is what a per-client limit counts by: an IPv4 address, or
// the /64 an IPv6 address is in. One IPv6 client is usually given a whole
// /64, and could otherwise take a new address for every connection.
func ClientNetwork(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	bits := addr.BitLen()
	if addr.Is6() {
		bits = 64
	}
	network, _ := addr.Prefix(bits)
	return network
}

// ClientNetworkName names a client's network as a limit's refusal does:
// the address itself for IPv4, its /64 for IPv6, and an address that does
// not parse as it is.
func ClientNetworkName(addr string) string {
	parsed, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	if network := ClientNetwork(parsed); network.Addr().Is6() {
		return network.String()
	}
	return parsed.Unmap().String()
}
