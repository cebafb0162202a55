// Package metrics exposes a node's Prometheus series at /metrics: the
// WebSocket transport's own counters, HTTP latency of the plain routes, and
// the Go runtime. Each node has its own registry, so nothing is global.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gogf/gf/v2/net/ghttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gfws/template-ws/internal/ws"
)

// Metrics is one node's registry and the series the transport feeds.
type Metrics struct {
	registry     *prometheus.Registry
	rejected     *prometheus.CounterVec
	slowClosed   prometheus.Counter
	closed       *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
}

// New returns a registry with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ws_handshake_rejected_total",
			Help: "WebSocket handshakes answered without an upgrade, by reason.",
		}, []string{"reason"}),
		slowClosed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ws_slow_consumer_closed_total",
			Help: "Connections closed with 4008 because their send queue was full.",
		}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ws_connections_closed_total",
			Help: "Closed connections, by close code; codes the protocol does not name count as other.",
		}, []string{"code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Latency of plain HTTP routes; the WebSocket route is not counted, its requests last a connection's life.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route", "status"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.rejected, m.slowClosed, m.closed, m.httpDuration,
	)
	for _, reason := range ws.RefusalReasons() {
		m.rejected.WithLabelValues(reason)
	}
	return m
}

// Watch adds the gauges and counters that read s's own figures.
func (m *Metrics) Watch(s *ws.Server) {
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ws_connections",
			Help: "Open WebSocket connections on this node.",
		}, func() float64 { return float64(s.Len()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ws_messages_received_total",
			Help: "Data messages received from clients.",
		}, func() float64 { return float64(s.Stats().Received) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ws_messages_sent_total",
			Help: "Data messages written to clients.",
		}, func() float64 { return float64(s.Stats().Sent) }),
	)
}

// WatchBroker adds the count of deliveries b took from other nodes: with
// routing by interest, a node without a room's members takes none of its
// traffic.
func (m *Metrics) WatchBroker(b interface{ Received() uint64 }) {
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "ws_broker_received_total",
		Help: "Deliveries received from other nodes through the broker.",
	}, func() float64 { return float64(b.Received()) }))
}

// WatchRecoveries adds the count of joins with since, by result:
// "recovered" when every missed message was replayed, "lost" when the
// client had to reload.
func (m *Metrics) WatchRecoveries(hub interface {
	Recoveries() (recovered, lost uint64)
}) {
	for _, result := range []string{"recovered", "lost"} {
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "ws_room_history_recovered_total",
			Help:        "Joins with since, by whether every missed message was replayed.",
			ConstLabels: prometheus.Labels{"result": result},
		}, func() float64 {
			recovered, lost := hub.Recoveries()
			if result == "recovered" {
				return float64(recovered)
			}
			return float64(lost)
		}))
	}
}

// Refused counts a refused handshake; it is a ws.Hooks.OnRefuse.
func (m *Metrics) Refused(reason string) {
	m.rejected.WithLabelValues(reason).Inc()
}

// closeCodes are the close codes counted under their own label: those the
// protocol names, and of those, clientCloseCodes when the client chose
// the code. A client picks its own code, 3000 to 4999 among them, and
// would otherwise make a series per code it chose, or pass for the
// server's closes (a 4008 counted as a slow consumer).
var closeCodes = map[int]bool{
	1000: true, 1001: true, 1002: true, 1003: true, 1005: true, 1006: true, 1007: true, 1008: true,
	1009: true, 1010: true, 1011: true, ws.CloseSlowConsumer: true, ws.CloseRateLimited: true,
	ws.CloseTokenExpired: true, ws.CloseKicked: true,
}

// clientCloseCodes are the codes of closeCodes a client's close counts
// under: those RFC 6455 defines for either end, and 1005 for a close
// frame without a code (a browser's plain close()). The application's
// codes (4008, 4029, 4401, 4403) are the server's to send.
var clientCloseCodes = map[int]bool{
	1000: true, 1001: true, 1002: true, 1003: true, 1005: true, 1007: true, 1008: true, 1009: true, 1010: true,
}

// Closed counts a closed connection, and slow consumers apart; byClient
// says the client chose the code.
func (m *Metrics) Closed(code int, byClient bool) {
	label := "other"
	if byClient && clientCloseCodes[code] || !byClient && closeCodes[code] {
		label = strconv.Itoa(code)
	}
	m.closed.WithLabelValues(label).Inc()
	if code == ws.CloseSlowConsumer && !byClient {
		m.slowClosed.Inc()
	}
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// HTTPLatency is a middleware for the plain HTTP groups.
func (m *Metrics) HTTPLatency(r *ghttp.Request) {
	start := time.Now()
	r.Middleware.Next()
	status := r.Response.Status
	if status == 0 {
		status = http.StatusOK
	}
	m.httpDuration.WithLabelValues(r.Method, r.Router.Uri, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
}
