package ws

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gfws/template-ws/internal/edge"
)

// originAllowed applies ws.allowedOrigins. With the list empty, a browser
// origin must name the host and port the browser addressed: the request's
// Host, or the host a trusted proxy says the client asked for. Ports
// count, so a page on :8080 is not taken for one on :80 of the same host.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, allowed := range s.cfg.AllowedOrigins {
		if allowed == "*" || strings.EqualFold(allowed, origin) {
			return true
		}
	}
	if len(s.cfg.AllowedOrigins) > 0 {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	for _, host := range s.addressedHosts(r) {
		if sameHostAndPort(u, host) {
			return true
		}
	}
	return false
}

// originRefusal says why the request's origin was refused and what fixes
// it.
func (s *Server) originRefusal(r *http.Request) string {
	origin := strconv.Quote(edge.Clip(r.Header.Get("Origin"), edge.MaxQuoted))
	if len(s.cfg.AllowedOrigins) > 0 {
		return "origin " + origin + " is not allowed: it is not in ws.allowedOrigins"
	}
	hosts := s.addressedHosts(r)
	for i, h := range hosts {
		hosts[i] = strconv.Quote(edge.Clip(h, edge.MaxQuoted))
	}
	return "origin " + origin + " is not allowed: with ws.allowedOrigins empty, a page may connect only to the host and port " +
		"it was served from, here " + strings.Join(hosts, " or ") + "; list other origins in ws.allowedOrigins. " +
		"Behind a proxy, pass the browser's Host on (nginx: proxy_set_header Host $http_host; see " + NginxConfigHint + ")"
}

// addressedHosts returns the request's Host and, when the socket peer is a
// trusted proxy, the host the proxy forwards in X-Forwarded-Host or
// Forwarded: host=. From any other peer those headers are ignored: a
// client could name whatever host its origin has. Of a list, only the
// right-most entry counts, the one the nearest proxy added.
func (s *Server) addressedHosts(r *http.Request) []string {
	hosts := []string{r.Host}
	if peer := edge.PeerAddr(r); !peer.IsValid() || !s.trusted(peer) {
		return hosts
	}
	if forwarded := rightMost(r.Header.Values("X-Forwarded-Host")); forwarded != "" {
		hosts = append(hosts, forwarded)
	}
	for _, pair := range strings.Split(rightMost(r.Header.Values("Forwarded")), ";") {
		if name, value, ok := strings.Cut(strings.TrimSpace(pair), "="); ok && strings.EqualFold(name, "host") {
			hosts = append(hosts, strings.Trim(value, `"`))
		}
	}
	return hosts
}

// rightMost returns the last comma-separated entry of a header's values.
func rightMost(values []string) string {
	if len(values) == 0 {
		return ""
	}
	last := values[len(values)-1]
	return strings.TrimSpace(last[strings.LastIndex(last, ",")+1:])
}

// sameHostAndPort reports whether origin names host, a Host header value.
// An origin without a port has its scheme's default. A host without one
// was addressed on the default port of http or https: behind a proxy that
// ends TLS the node cannot tell which, so either matches.
func sameHostAndPort(origin *url.URL, host string) bool {
	addressed := &url.URL{Host: host}
	if addressed.Hostname() == "" || !strings.EqualFold(origin.Hostname(), addressed.Hostname()) {
		return false
	}
	port := origin.Port()
	if port == "" {
		port = defaultPort(origin.Scheme)
	}
	if addressed.Port() != "" {
		return port == addressed.Port()
	}
	return port == "80" || port == "443"
}

// defaultPort is the port a browser leaves out of an origin of scheme.
func defaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}
