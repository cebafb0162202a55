package contract

import (
	_ "embed"
	"encoding/json"
	"maps"
	"net/http"

	"github.com/gogf/gf/v2/net/ghttp"
)

// Paths where a node serves the contract.
const (
	DocumentPath = "/asyncapi.json"
	PagePath     = "/asyncapi"
)

//go:embed page.html
var page []byte

// Serve binds the document and its page on s. The document names the
// request's own host as its server, so that it is right behind any
// address the node is reached at.
func Serve(s *ghttp.Server, doc Document) {
	s.BindHandler("GET:"+DocumentPath, func(r *ghttp.Request) {
		withHost := maps.Clone(doc)
		servers := map[string]any{}
		for name, server := range doc["servers"].(Schema) {
			server := maps.Clone(server.(Schema))
			server["host"] = r.Host
			servers[name] = server
		}
		withHost["servers"] = servers
		body, err := json.MarshalIndent(withHost, "", "  ")
		if err != nil {
			r.Response.WriteStatus(http.StatusInternalServerError, err.Error())
			return
		}
		r.Response.Header().Set("Content-Type", "application/json")
		r.Response.Write(body)
	})
	s.BindHandler("GET:"+PagePath, func(r *ghttp.Request) {
		r.Response.Header().Set("Content-Type", "text/html; charset=utf-8")
		r.Response.Write(page)
	})
}
