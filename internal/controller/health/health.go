// Package health answers the probes a load balancer or orchestrator polls.
package health

import (
	"net/http"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/net/ghttp"
)

// Controller serves /healthz and /readyz.
type Controller struct {
	// Ready reports whether the node takes new connections; it turns false
	// while the node drains.
	Ready func() bool
}

// Healthz answers 200 while the process serves HTTP at all.
func (c *Controller) Healthz(r *ghttp.Request) {
	r.Response.WriteJson(ghttp.DefaultHandlerResponse{Data: map[string]string{"status": "ok"}})
}

// Readyz answers 200 while the node takes new connections and 503 once it
// drains, so the proxy stops sending it clients before it goes away.
func (c *Controller) Readyz(r *ghttp.Request) {
	if !c.Ready() {
		r.Response.WriteHeader(http.StatusServiceUnavailable)
		r.Response.WriteJson(ghttp.DefaultHandlerResponse{
			Code:    gcode.CodeServerBusy.Code(),
			Message: "not ready: this node is shutting down",
		})
		return
	}
	r.Response.WriteJson(ghttp.DefaultHandlerResponse{Data: map[string]string{"status": "ready"}})
}
