// Package resource embeds the files the server serves, so the binary finds
// them wherever it runs.
package resource

import (
	"embed"
	"io/fs"
)

//go:embed public
var files embed.FS

// Public is resource/public: the demo page and the JS client.
var Public, _ = fs.Sub(files, "public")
