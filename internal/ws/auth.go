package ws

import (
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gfws/template-ws/internal/edge"
)

// AnonymousPrefix starts the user id of a connection without a token, and
// so may not start a token's sub.
const AnonymousPrefix = "anon-"

// maxUserID is the longest sub a token may carry, in bytes.
const maxUserID = 128

// identity is who a handshake authenticated as.
type identity struct {
	userID  string
	expires time.Time // zero when the token has no exp, or there is no token
}

// bearerToken returns the token from `Authorization: Bearer`, else from the
// `token` query parameter, which browsers must use since they cannot set
// headers on a WebSocket handshake.
func bearerToken(r *http.Request) string {
	if token := edge.BearerToken(r); token != "" {
		return token
	}
	return r.URL.Query().Get("token")
}

// authenticate verifies the request's token. With no token and auth not
// required it returns an empty identity: the caller names the user after
// the connection. A token that is present but bad is refused either way.
func (s *Server) authenticate(r *http.Request) (identity, error) {
	raw := bearerToken(r)
	if raw == "" {
		if s.cfg.AuthRequired {
			return identity{}, errors.New("a token is required: send Authorization: Bearer <jwt>, or ?token=<jwt> from a browser")
		}
		return identity{}, nil
	}
	if s.cfg.JWTSecret == PlaceholderJWTSecret && !directFromThisMachine(r) {
		return identity{}, errors.New("ws.auth.jwtSecret is still the shipped placeholder, which anybody can sign tokens with:" +
			" until it is set to a long random secret, tokens are accepted only on direct connections from this machine")
	}
	claims := jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) {
		return []byte(s.cfg.JWTSecret), nil
	}, jwt.WithValidMethods([]string{"HS256"}))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return identity{}, errors.New("the token has expired: get a new one and reconnect")
	case err != nil:
		return identity{}, errors.New("the token is not valid: it must be an HS256 JWT signed with the server's ws.auth.jwtSecret")
	case claims.Subject == "":
		return identity{}, errors.New("the token has no sub claim: it must name the user")
	}
	if err := checkUserID(claims.Subject); err != nil {
		return identity{}, err
	}
	id := identity{userID: claims.Subject}
	if claims.ExpiresAt != nil {
		id.expires = claims.ExpiresAt.Time
	}
	return id, nil
}

// directFromThisMachine reports whether r came from a loopback peer with
// no mark of a proxy: through a proxy on the same host every peer is
// loopback.
func directFromThisMachine(r *http.Request) bool {
	peer := edge.PeerAddr(r)
	return peer.IsValid() && peer.IsLoopback() && !cameThroughProxy(r)
}

// checkUserID refuses a sub that could pass for another user or forge
// log lines: user ids travel into logs, presence and every message's from.
func checkUserID(sub string) error {
	switch {
	case len(sub) > maxUserID:
		return errors.New("the token's sub is " + strconv.Itoa(len(sub)) + " bytes long; a user id is at most " +
			strconv.Itoa(maxUserID) + " bytes")
	case strings.HasPrefix(sub, AnonymousPrefix):
		return errors.New("the token's sub starts with \"" + AnonymousPrefix + "\", which names anonymous connections; " +
			"choose user ids that do not")
	case !utf8.ValidString(sub) || strings.ContainsFunc(sub, unicode.IsControl):
		return errors.New("the token's sub contains control characters or invalid UTF-8; a user id must be printable text")
	}
	return nil
}

// clientIP is the socket peer, unless the peer is a trusted proxy: then the
// right-most address of X-Forwarded-For that is not itself a trusted proxy,
// or X-Real-IP. Taking the right-most untrusted entry means a client cannot
// spoof its address by sending its own X-Forwarded-For.
func (s *Server) clientIP(r *http.Request) string {
	addr := edge.PeerAddr(r)
	if !addr.IsValid() {
		return r.RemoteAddr
	}
	if !s.trusted(addr) {
		return addr.String()
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		hop = hop.Unmap()
		if !s.trusted(hop) {
			return hop.String()
		}
	}
	if real, err := netip.ParseAddr(strings.TrimSpace(r.Header.Get("X-Real-IP"))); err == nil {
		return real.Unmap().String()
	}
	return addr.String()
}

func (s *Server) trusted(addr netip.Addr) bool { return s.cfg.Trusts(addr) }
