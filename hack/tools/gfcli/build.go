package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// gfCore is the GoFrame module whose gproc package gf run uses.
const gfCore = "github.com/gogf/gf/v2"

// gprocFix makes gproc's Process.Kill reap the process it kills. As
// released (gf v2.10.0 to v2.10.2 alike), Kill releases the process
// before it waits for it, so the wait fails and every restart of gf run
// leaves the replaced server as a zombie (`[main] <defunct>`) until gf run
// exits. Without the release, the wait that follows collects it.
var gprocFix = struct{ file, old string }{
	file: filepath.Join("os", "gproc", "gproc_process.go"),
	old: `	if runtime.GOOS != "windows" {
		if err = p.Process.Release(); err != nil {
			intlog.Errorf(context.TODO(), ` + "`%+v`" + `, err)
		}
	}
`,
}

// build builds the gf CLI of the module file mod (with its sums) into bin,
// against a copy of its GoFrame module carrying gprocFix. Concurrent
// builds are safe: each works in its own directory and the last rename
// wins with an identical binary.
func build(mod, sum []byte, bin string) error {
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp(filepath.Dir(bin), "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err := os.WriteFile(filepath.Join(work, "go.mod"), mod, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "go.sum"), sum, 0o644); err != nil {
		return err
	}
	out, err := goCommand(work, "mod", "download", "-json", gfCore)
	if err != nil {
		return err
	}
	var downloaded struct{ Dir, Version string }
	if err := json.Unmarshal(out, &downloaded); err != nil || downloaded.Dir == "" {
		return fmt.Errorf("go mod download %s: no directory in %q", gfCore, out)
	}
	core := filepath.Join(work, "gf")
	if err := copyTree(downloaded.Dir, core); err != nil {
		return err
	}
	if err := applyFix(core, downloaded.Version); err != nil {
		return err
	}
	replace := fmt.Sprintf("\nreplace %s => ./gf\n", gfCore)
	if err := os.WriteFile(filepath.Join(work, "go.mod"), append(mod, replace...), 0o644); err != nil {
		return err
	}
	// -trimpath keeps the build cache's entries independent of the work
	// directory, so a rebuild reuses them.
	if _, err := goCommand(work, "build", "-trimpath", "-o", filepath.Join(work, "gf-cli"), gfModule); err != nil {
		return err
	}
	return os.Rename(filepath.Join(work, "gf-cli"), bin)
}

// applyFix rewrites gprocFix's file under core, or explains why it cannot.
func applyFix(core, version string) error {
	path := filepath.Join(core, gprocFix.file)
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !strings.Contains(string(src), gprocFix.old) {
		return fmt.Errorf("%s@%s/%s no longer releases a process before waiting for it; "+
			"if its gf run reaps the servers it replaces, remove gprocFix from hack/tools/gfcli", gfCore, version, gprocFix.file)
	}
	return os.WriteFile(path, []byte(strings.Replace(string(src), gprocFix.old, "", 1)), 0o644)
}

// copyTree copies the regular files under src to dst, writable: the
// module cache's copies are read-only.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
