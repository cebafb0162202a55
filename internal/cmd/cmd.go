// Package cmd holds the process's commands and, in app.go, the one place
// where the server is wired: config, routes, WebSocket transport, drain.
package cmd

import (
	"context"

	"github.com/gogf/gf/v2/frame/g"
	"github.com/gogf/gf/v2/os/gcmd"
)

// Main starts the server with manifest/config/config.yaml, or the file
// GF_GCFG_FILE / GF_GCFG_PATH point at.
var Main = gcmd.Command{
	Name:  "main",
	Usage: "main",
	Brief: "start the HTTP and WebSocket server",
	Func: func(ctx context.Context, parser *gcmd.Parser) error {
		app, err := New(ctx, g.Cfg())
		if err != nil {
			return err
		}
		app.Run(ctx)
		return nil
	},
}
