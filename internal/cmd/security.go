package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gogf/gf/v2/os/gcfg"
	"github.com/gogf/gf/v2/os/glog"
	"github.com/gogf/gf/v2/text/gstr"
	"github.com/gogf/gf/v2/util/gconv"
	"github.com/gogf/gf/v2/util/gutil"

	"github.com/gfws/template-ws/internal/contract"
	"github.com/gfws/template-ws/internal/controller/admin"
	"github.com/gfws/template-ws/internal/ws"
)

// defaultReadHeaderTimeout is server.readHeaderTimeout when the key is
// absent.
const defaultReadHeaderTimeout = 10 * time.Second

// placeholderSecrets are the secret values this repository ships, in
// manifest/config and manifest/deploy: anybody who has read it knows them.
var placeholderSecrets = []string{ws.PlaceholderJWTSecret}

// warnPlaceholderSecrets warns about each secret still set to a value the
// repository ships.
func warnPlaceholderSecrets(ctx context.Context, jwtSecret, adminToken string) {
	for _, secret := range []struct{ key, value, risk string }{
		{"ws.auth.jwtSecret", jwtSecret, "anybody can sign tokens with it, so tokens are accepted only on direct connections from this machine"},
		{"admin.token", adminToken, "anybody can use the admin API"},
	} {
		if slices.Contains(placeholderSecrets, secret.value) {
			glog.Warningf(ctx, "%s is still the shipped placeholder %q: %s; "+
				"set a long random secret before exposing this server", secret.key, secret.value, secret.risk)
		}
	}
}

// readHeaderTimeout reads server.readHeaderTimeout, which ghttp does not
// know: the node applies it itself (edge.HeaderGuard).
func readHeaderTimeout(ctx context.Context, cfg *gcfg.Config) (time.Duration, error) {
	v, err := cfg.Get(ctx, "server.readHeaderTimeout")
	if err != nil {
		return 0, fmt.Errorf("config server.readHeaderTimeout: %w", err)
	}
	if v == nil || v.IsNil() {
		return defaultReadHeaderTimeout, nil
	}
	d, err := time.ParseDuration(v.String())
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("config server.readHeaderTimeout: %q is not a positive duration such as \"10s\"", v.String())
	}
	return d, nil
}

// guardOpsPaths puts admin.OpsGuard before the OpenAPI document, the
// Swagger UI, the event contract and /metrics, and admin.DebugGuard
// before GoFrame's pprof when server.pprofEnabled turns it on. The hooks
// use the very patterns ghttp binds those paths with in Start, and, bound
// first, run first. The Swagger path
// is found in the section the way ghttp finds it, key case and all; ghttp
// has no getter for it.
func guardOpsPaths(s *ghttp.Server, serverSection map[string]any, token string) {
	guard := admin.OpsGuard(token)
	for _, path := range []string{"/metrics", contract.DocumentPath, contract.PagePath} {
		s.BindHookHandler(path, ghttp.HookBeforeServe, guard)
	}
	if path := s.GetOpenApiPath(); path != "" {
		s.BindHookHandler(path, ghttp.HookBeforeServe, guard)
	}
	if _, v := gutil.MapPossibleItemByKey(serverSection, "SwaggerPath"); v != nil && fmt.Sprint(v) != "" {
		s.BindHookHandler(fmt.Sprint(v)+"/*", ghttp.HookBeforeServe, guard)
	}
	if _, on := gutil.MapPossibleItemByKey(serverSection, "PProfEnabled"); gconv.Bool(on) {
		pattern := "/debug/pprof" // ghttp's default
		if _, v := gutil.MapPossibleItemByKey(serverSection, "PProfPattern"); v != nil && fmt.Sprint(v) != "" {
			pattern = strings.TrimRight(fmt.Sprint(v), "/")
		}
		s.BindHookHandler(pattern+"/*", ghttp.HookBeforeServe, admin.DebugGuard(token))
	}
}

// listen opens server.address, a comma-separated list as ghttp reads it,
// through the header guard, and hands the listeners to ghttp.
func (a *App) listen() ([]net.Listener, error) {
	var listeners []net.Listener
	closeAll := func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}
	for _, address := range strings.Split(a.address, ",") {
		address = strings.TrimSpace(address)
		if address == "" {
			continue
		}
		if gstr.IsNumeric(address) {
			address = ":" + address
		}
		l, err := a.headers.Listen(address)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("config server.address: listen on %s: %w", address, err)
		}
		listeners = append(listeners, l)
	}
	if len(listeners) == 0 {
		return nil, errors.New("config server.address: no address to listen on, such as \":8000\"")
	}
	if err := a.HTTP.SetListener(listeners...); err != nil {
		closeAll()
		return nil, err
	}
	return listeners, nil
}
