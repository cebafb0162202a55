// Package health answers the probes a load balancer or orchestrator polls.
package health

import (
	"net/http"

	"github.com/gogf/gf/v2/errors/gcode"
	"github.com/gogf/gf/v2/net/ghttp"
)

// Controller serves /healthz and /readyz.
type Controller struct {
	// Ready returns why the node should get no new clients, such as a
	// drain or a lost broker, or nil.
	Ready func() error
}

// Healthz answers 200 while the process serves HTTP at all.
func (c *Controller) Healthz(r *ghttp.Request) {
	r.Response.WriteJson(ghttp.DefaultHandlerResponse{Data: map[string]string{"status": "ok"}})
}

// Readyz answers 200 while the node takes new connections, and 503 while
// it drains or has lost the broker, so the proxy sends clients elsewhere.
func (c *Controller) Readyz(r *ghttp.Request) {
	if err := c.Ready(); err != nil {
		r.Response.WriteHeader(http.StatusServiceUnavailable)
		r.Response.WriteJson(ghttp.DefaultHandlerResponse{
			Code:    gcode.CodeServerBusy.Code(),
			Message: "not ready: " + err.Error(),
		})
		return
	}
	r.Response.WriteJson(ghttp.DefaultHandlerResponse{Data: map[string]string{"status": "ready"}})
}
