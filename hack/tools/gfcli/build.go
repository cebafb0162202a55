package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// gfCore is the GoFrame module whose gproc package gf run uses.
const gfCore = "github.com/gogf/gf/v2"

// fix is a change the cached gf CLI carries to the source of one of the
// modules it is built from.
type fix struct {
	module, file, old, new string
	// fixed says what the change cures, for the message that asks to
	// remove the fix when a version no longer holds old.
	fixed string
}

// fixes are the changes to gf as released (gf v2.10.0, GoFrame v2.10.0
// to v2.10.2 alike) that gf run needs:
//
//   - gproc's Process.Kill released the process before it waited for it,
//     so the wait failed and every restart of gf run left the replaced
//     server as a zombie (`[main] <defunct>`) until gf run exited. Without
//     the release, the wait that follows collects it.
//   - gf run dropped a change saved while it was building the one before
//     (its `dirty` flag ignores every event until the build ends), and
//     kept serving the older code until the next save. A change saved
//     meanwhile now gets one more build after it.
var fixes = []fix{
	{
		module: gfCore,
		file:   filepath.Join("os", "gproc", "gproc_process.go"),
		old: `	if runtime.GOOS != "windows" {
		if err = p.Process.Release(); err != nil {
			intlog.Errorf(context.TODO(), ` + "`%+v`" + `, err)
		}
	}
`,
		fixed: "releases a process before waiting for it",
	},
	{
		module: gfModule,
		file:   filepath.Join("internal", "cmd", "cmd_run.go"),
		old: `	dirty := gtype.NewBool()
`,
		new: `	dirty, again, latest := gtype.NewBool(), gtype.NewBool(), gtype.NewString()
`,
		fixed: "drops a change saved during a build",
	},
	{
		module: gfModule,
		file:   filepath.Join("internal", "cmd", "cmd_run.go"),
		old: `		if !dirty.Cas(false, true) {
			return
		}

		// With some delay in case of multiple code changes in very short interval.
		gtimer.SetTimeout(ctx, 1500*gtime.MS, func(ctx context.Context) {
			defer dirty.Set(false)
			mlog.Printf(` + "`watched file changes: %s`" + `, event.String())
			app.Run(ctx, outputPath)
		})
`,
		new: `		// Marked before the build under way can look for it: a change that
		// finds one under way is built after it.
		latest.Set(event.String())
		again.Set(true)
		if !dirty.Cas(false, true) {
			return
		}

		var build func(ctx context.Context)
		build = func(ctx context.Context) {
			again.Set(false)
			mlog.Printf(` + "`watched file changes: %s`" + `, latest.Val())
			app.Run(ctx, outputPath)
			dirty.Set(false)
			if again.Cas(true, false) && dirty.Cas(false, true) {
				gtimer.SetTimeout(ctx, 1500*gtime.MS, build)
			}
		}
		// With some delay in case of multiple code changes in very short interval.
		gtimer.SetTimeout(ctx, 1500*gtime.MS, build)
`,
		fixed: "drops a change saved during a build",
	},
}

// fixesKey is what the fixes add to the key of the cached build, so that
// a changed fix builds again.
func fixesKey() []byte {
	var key []byte
	for _, f := range fixes {
		key = append(append(append(key, f.file...), f.old...), f.new...)
	}
	return key
}

// build builds the gf CLI of the module file mod (with its sums) into bin,
// against copies of the modules that fixes change, changed. Concurrent
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
	var modules []string // those the fixes change, in their order
	for _, f := range fixes {
		if !slices.Contains(modules, f.module) {
			modules = append(modules, f.module)
		}
	}
	var replaces []byte
	for i, module := range modules {
		dir := fmt.Sprintf("fixed%d", i)
		if err := copyFixed(work, module, filepath.Join(work, dir)); err != nil {
			return err
		}
		replaces = fmt.Appendf(replaces, "\nreplace %s => ./%s\n", module, dir)
	}
	if err := os.WriteFile(filepath.Join(work, "go.mod"), append(mod, replaces...), 0o644); err != nil {
		return err
	}
	// -trimpath keeps the build cache's entries independent of the work
	// directory, so a rebuild reuses them.
	if _, err := goCommand(work, "build", "-trimpath", "-o", filepath.Join(work, "gf-cli"), gfModule); err != nil {
		return err
	}
	return os.Rename(filepath.Join(work, "gf-cli"), bin)
}

// copyFixed copies module, at the version work's go.mod requires, to dst
// and applies its fixes there.
func copyFixed(work, module, dst string) error {
	out, err := goCommand(work, "mod", "download", "-json", module)
	if err != nil {
		return err
	}
	var downloaded struct{ Dir, Version string }
	if err := json.Unmarshal(out, &downloaded); err != nil || downloaded.Dir == "" {
		return fmt.Errorf("go mod download %s: no directory in %q", module, out)
	}
	if err := copyTree(downloaded.Dir, dst); err != nil {
		return err
	}
	for _, f := range fixes {
		if f.module != module {
			continue
		}
		path := filepath.Join(dst, f.file)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !strings.Contains(string(src), f.old) {
			return fmt.Errorf("%s@%s/%s has changed where gf run %s; "+
				"if that is cured, remove the fix from hack/tools/gfcli", module, downloaded.Version, f.file, f.fixed)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(src), f.old, f.new, 1)), 0o644); err != nil {
			return err
		}
	}
	return nil
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
