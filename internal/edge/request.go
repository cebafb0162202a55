package edge

import (
	"net/http"
	"net/netip"
	"strings"
)

// BearerToken returns the token of an `Authorization: Bearer <token>`
// header, or "".
func BearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// PeerAddr returns the address of the request's socket peer, with an
// IPv4-mapped IPv6 address unmapped, or the zero Addr when RemoteAddr is
// not an address (a FastCGI or test request may carry anything).
func PeerAddr(r *http.Request) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return peer.Addr().Unmap()
}
