package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/gogf/gf/v2/net/goai"
	"github.com/gogf/gf/v2/os/gcfg"
	"github.com/gogf/gf/v2/os/glog"
	"github.com/gogf/gf/v2/os/gproc"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/broker"
	"github.com/gfws/template-ws/internal/contract"
	"github.com/gfws/template-ws/internal/controller/admin"
	"github.com/gfws/template-ws/internal/controller/health"
	wsctrl "github.com/gfws/template-ws/internal/controller/ws"
	"github.com/gfws/template-ws/internal/edge"
	"github.com/gfws/template-ws/internal/logic/hub"
	"github.com/gfws/template-ws/internal/metrics"
	"github.com/gfws/template-ws/internal/rules"
	"github.com/gfws/template-ws/internal/service"
	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/resource"
)

// App is one node: the ghttp server, the WebSocket transport on it, and
// its metrics.
type App struct {
	HTTP    *ghttp.Server
	WS      *ws.Server
	broker  broker.Broker
	fastCGI *fastCGI
	address string // server.address
	headers *edge.HeaderGuard
}

// New builds a node from cfg without starting it. Every configuration
// mistake is reported here, naming its key, before anything listens.
func New(ctx context.Context, cfg *gcfg.Config) (*App, error) {
	if err := checkConfig(ctx, cfg); err != nil {
		return nil, err
	}
	wsCfg, err := ws.LoadConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	adminToken, err := cfg.Get(ctx, "admin.token", "")
	if err != nil {
		return nil, fmt.Errorf("config admin.token: %w", err)
	}
	warnPlaceholderSecrets(ctx, wsCfg.JWTSecret, adminToken.String())
	headerTimeout, err := readHeaderTimeout(ctx, cfg)
	if err != nil {
		return nil, err
	}
	address, err := cfg.Get(ctx, "server.address", ":8000")
	if err != nil {
		return nil, fmt.Errorf("config server.address: %w", err)
	}
	fastCGIAddress, err := cfg.Get(ctx, "fastcgi.address", "")
	if err != nil {
		return nil, fmt.Errorf("config fastcgi.address: %w", err)
	}

	router := ws.NewRouter()
	router.PureRules(rules.Room)
	if err := router.Bind(wsctrl.NewV1()); err != nil {
		return nil, err
	}
	pushes, err := contract.PushesOf(wsv1.Pushes())
	if err != nil {
		return nil, err
	}
	events, err := contract.Build(router, pushes, wsCfg.Path)
	if err != nil {
		return nil, err
	}
	node, cluster, err := newBroker(ctx, cfg, wsCfg.SendQueueSize)
	if err != nil {
		return nil, err
	}
	// One process is one node: its services are the process's.
	hubCfg, err := loadHubConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	hubCfg.MaxReplayBytes = wsCfg.SendQueueBytes / 2
	hubOfNode := hub.New(node, cluster, hubCfg)
	service.RegisterHub(hubOfNode)
	stats := metrics.New()
	wsServer := ws.NewServer(wsCfg, node, router, ws.Hooks{
		OnOpen: func(c *ws.Conn) { hubOfNode.Register(c) },
		OnClose: func(c *ws.Conn, code int, byClient bool) {
			hubOfNode.Unregister(c)
			stats.Closed(code, byClient)
		},
		OnRefuse: stats.Refused,
	})
	stats.Watch(wsServer)
	stats.WatchBroker(cluster)
	stats.WatchRecoveries(hubOfNode)

	// ghttp keeps every server it named for the life of the process: a
	// name of its own per App lets one process run several nodes, and run
	// a node again under the same broker.nodeId after stopping it.
	s := ghttp.GetServer(fmt.Sprintf("template-ws-%s-%d", node, serversNamed.Add(1)))
	serverSection, err := cfg.Get(ctx, "server")
	if err != nil {
		return nil, fmt.Errorf("config server: %w", err)
	}
	if err := s.SetConfigWithMap(serverSection.Map()); err != nil {
		return nil, fmt.Errorf("config server: %w", err)
	}
	if s.GetGraceful() {
		return nil, errors.New("config server.graceful: ghttp's reload hands listening sockets to a new process, " +
			"which can take over neither the WebSocket connections nor this node's listener; leave it false " +
			"and replace nodes one at a time behind the proxy (each drains on SIGTERM)")
	}
	headers := edge.NewHeaderGuard(headerTimeout, wsCfg.Trusts)
	s.SetHandler(edge.GrowStack(headers.Handler(s.ServeHTTP)))
	// Outside every group's middleware, so it sees the final status.
	s.Use(edge.ClientErrors)
	guardOpsPaths(s, serverSection.Map(), adminToken.String())
	documentAdminAPI(s.GetOpenApi())
	probes := &health.Controller{Ready: func() error {
		switch {
		case wsServer.Draining():
			return errors.New("this node is shutting down")
		case !cluster.Ready():
			return errors.New("this node has lost the broker and serves only its own connections")
		}
		return nil
	}}
	s.Group("/", func(group *ghttp.RouterGroup) {
		group.Middleware(stats.HTTPLatency, ghttp.MiddlewareHandlerResponse)
		group.GET("/healthz", probes.Healthz)
		group.GET("/readyz", probes.Readyz)
		group.GET("/metrics", ghttp.WrapH(stats.Handler()))
	})
	// The demo page and its client, from the binary itself.
	public := ghttp.WrapH(http.FileServerFS(resource.Public))
	for _, path := range []string{"/", "/index.html", "/demo.js", "/ws-client.js", "/ws-client.mjs"} {
		s.BindHandler("GET:"+path, public)
	}
	for _, path := range []string{contract.ClientDeclarationsPath, contract.ClientModuleDeclarationsPath} {
		s.BindHandler("GET:"+path, func(r *ghttp.Request) {
			// Set before the file server, which would take .ts and .mts
			// from the system's mime.types, where they name other formats
			// (MPEG transport streams, Qt translations, 3D models).
			r.Response.Header().Set("Content-Type", "application/typescript; charset=utf-8")
			public(r)
		})
	}
	contract.Serve(s, events)
	s.Group("/api/v1", func(group *ghttp.RouterGroup) {
		group.Middleware(stats.HTTPLatency, admin.StatusFromCode, ghttp.MiddlewareHandlerResponse, admin.Guard(adminToken.String()))
		group.Bind(admin.NewV1())
	})
	s.Group(wsCfg.Path, func(group *ghttp.RouterGroup) {
		group.Middleware(edge.MaskToken, ghttp.MiddlewareHandlerResponse)
		// ALL, not GET: other methods get the 405 that explains itself
		// instead of a bare 404.
		group.ALL("/", wsServer.Handle)
	})
	return &App{HTTP: s, WS: wsServer, broker: cluster,
		fastCGI: &fastCGI{address: fastCGIAddress.String()},
		address: address.String(), headers: headers}, nil
}

// documentAdminAPI declares the bearer token the admin API's operations
// name in their `security` tag, and the {"code","message","data"} shape
// every answer has (ghttp.MiddlewareHandlerResponse), its data the
// operation's own response.
func documentAdminAPI(oai *goai.OpenApiV3) {
	oai.Config.CommonResponse = ghttp.DefaultHandlerResponse{}
	oai.Config.CommonResponseDataField = "Data"
	// GoFrame names the schema of an `any` field "interface" and makes it
	// an object: a push's data, and an answer's, is any JSON value.
	oai.Components.Schemas.Set("interface", goai.SchemaRef{Value: &goai.Schema{Description: "any JSON value"}})
	oai.Components.SecuritySchemes = goai.SecuritySchemes{
		"BearerAuth": goai.SecuritySchemeRef{Value: &goai.SecurityScheme{
			Type:        "http",
			Scheme:      "bearer",
			Description: "admin.token from the configuration; with it empty, only direct requests from the node's own machine, which need none",
		}},
	}
}

// Start starts serving HTTP, and FastCGI when fastcgi.address is set.
func (a *App) Start(ctx context.Context) error {
	listeners, err := a.listen()
	if err != nil {
		return err
	}
	if err := a.HTTP.Start(); err != nil {
		for _, l := range listeners {
			_ = l.Close()
		}
		return err
	}
	if err := AwaitServing(a.HTTP); err != nil {
		return err
	}
	// ghttp binds its routes in Start, so FastCGI, which serves the same
	// handler, starts after it.
	return a.fastCGI.start(ctx, a.HTTP)
}

// serversNamed counts the ghttp servers New has named.
var serversNamed atomic.Uint64

// AwaitServing waits until s, just started, serves. ghttp's Start serves
// from a goroutine and its Shutdown does nothing to a server that has not
// begun: a stop that came first would leave it accepting for good.
func AwaitServing(s *ghttp.Server) error {
	const wait = 5 * time.Second
	deadline := time.Now().Add(wait)
	for s.Status() != ghttp.ServerStatusRunning {
		if time.Now().After(deadline) {
			return fmt.Errorf("the HTTP server did not begin serving within %s", wait)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// Run serves until SIGINT or SIGTERM, then drains the WebSocket
// connections before the HTTP server stops. ghttp neither closes nor waits
// for hijacked connections, so the drain is registered here, before
// ghttp.Wait registers ghttp's own shutdown handler, and gproc runs it
// first.
func (a *App) Run(ctx context.Context) {
	gproc.AddSigHandlerShutdown(func(sig os.Signal) {
		a.Drain(ctx)
		a.fastCGI.stop()
		_ = a.broker.Close()
	})
	if err := a.Start(ctx); err != nil {
		glog.Fatalf(ctx, "start: %+v", err)
	}
	ghttp.Wait()
}

// Shutdown stops FastCGI, HTTP and the broker without draining; see Drain.
func (a *App) Shutdown() {
	a.fastCGI.stop()
	_ = a.HTTP.Shutdown()
	_ = a.broker.Close()
}

// Drain turns the node not-ready, closes every connection with 1001 and
// waits for them up to ws.shutdownTimeout.
func (a *App) Drain(ctx context.Context) {
	glog.Infof(ctx, "draining %d WebSocket connections", a.WS.Len())
	if left := a.WS.Drain(ctx); left > 0 {
		glog.Warningf(ctx, "%d WebSocket connections still open after ws.shutdownTimeout", left)
	}
}
