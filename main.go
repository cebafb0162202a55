package main

import (
	_ "github.com/gfws/template-ws/internal/logic"

	"github.com/gogf/gf/v2/os/gctx"

	"github.com/gfws/template-ws/internal/cmd"
)

func main() {
	cmd.Main.Run(gctx.GetInitCtx())
}
