// Command gencontract writes the clients' code that follows the event
// contract: resource/public/ws-client.d.ts, the TypeScript declarations
// of the JS client, and pkg/wsclient/events.go, the Go client's typed
// methods. Run it from the module root with make gen-client (make ctrl
// runs it too) after changing an event or a push of api/ws/v1.
package main

import (
	"fmt"
	"os"

	wsv1 "github.com/gfws/template-ws/api/ws/v1"
	"github.com/gfws/template-ws/internal/contract"
	wsctrl "github.com/gfws/template-ws/internal/controller/ws"
	"github.com/gfws/template-ws/internal/ws"
)

// The generated files, from the module root.
const (
	declarationsFile = "resource/public/ws-client.d.ts"
	goClientFile     = "pkg/wsclient/events.go"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gencontract:", err)
		os.Exit(1)
	}
}

func run() error {
	router := ws.NewRouter()
	if err := router.Bind(wsctrl.NewV1()); err != nil {
		return err
	}
	pushes, err := contract.PushesOf(wsv1.Pushes())
	if err != nil {
		return err
	}
	declarations, err := contract.TypeScript(router, pushes)
	if err != nil {
		return err
	}
	goClient, err := contract.GoClient(router, pushes)
	if err != nil {
		return err
	}
	if err := os.WriteFile(declarationsFile, declarations, 0o644); err != nil {
		return err
	}
	return os.WriteFile(goClientFile, goClient, 0o644)
}
