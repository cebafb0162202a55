package cmd

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/gogf/gf/v2/errors/gerror"
	"github.com/gogf/gf/v2/os/gcfg"
	"github.com/gogf/gf/v2/os/gfile"
	"gopkg.in/yaml.v3"
)

// loadError reports why cfg could not be loaded, naming the file and, for
// YAML, the line of the mistake. GoFrame's own error names neither well:
// it surfaces on whichever key is read first, and carries the line
// gopkg.in/yaml.v3 gives, which is where the block around the mistake
// starts (its parser prefers the context mark to the problem mark), often
// far above it: "ws:" for a bad line at the end of the ws section.
func loadError(cfg *gcfg.Config, err error) error {
	file, isFile := cfg.GetAdapter().(*gcfg.AdapterFile)
	if !isFile {
		return fmt.Errorf("config: %w", err)
	}
	path, pathErr := file.GetFilePath()
	if pathErr != nil {
		return fmt.Errorf("config: %w", err)
	}
	if ext := gfile.ExtName(path); ext == "yaml" || ext == "yml" {
		if content, readErr := os.ReadFile(path); readErr == nil {
			if where, problem, failed := yamlError(content); failed {
				return fmt.Errorf("config %s: %s%s", path, where, problem)
			}
		}
	}
	return fmt.Errorf("config %s: %w", path, gerror.Cause(err))
}

// yamlLocation is the "yaml: line N: " yaml.v3 puts before its message.
var yamlLocation = regexp.MustCompile(`^yaml: (line \d+: )?`)

// yamlError decodes content as GoFrame does and, when that fails, returns
// where ("line N: ", or "" when the problem names its own lines) and what
// the problem is.
func yamlError(content []byte) (where, problem string, failed bool) {
	err := decodeYAML(content)
	if err == nil {
		return "", "", false
	}
	// Decoding errors, such as a key set twice, carry their right lines.
	var typeErr *yaml.TypeError
	if errors.As(err, &typeErr) {
		return "", strings.Join(typeErr.Errors, "; "), true
	}
	// A syntax error lies on the line after the longest leading run of
	// lines that still decodes: up to there the file is well formed, and
	// no later line repairs it.
	lines := strings.SplitAfter(string(content), "\n")
	line := 1
	for n := len(lines) - 1; n > 0; n-- {
		if decodeYAML([]byte(strings.Join(lines[:n], ""))) == nil {
			line = n + 1
			break
		}
	}
	return fmt.Sprintf("line %d: ", line), yamlLocation.ReplaceAllString(err.Error(), ""), true
}

// decodeYAML decodes content into what GoFrame's gyaml decodes a
// configuration file into.
func decodeYAML(content []byte) error {
	var data map[string]any
	return yaml.Unmarshal(content, &data)
}
