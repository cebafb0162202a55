package main_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gfws/template-ws/internal/wstest"
)

// The template as a team uses it: `gf init -r` from a module proxy, the
// generators on a clean tree, the README's walkthrough, `gf run`, and the
// new app's own test suite. The repository is packed into a file://
// GOPROXY, so nothing is published.

// scaffoldVersion is new each run: the module cache keeps every version it
// has seen, and a reused one would serve an old copy of the template.
var scaffoldVersion = fmt.Sprintf("v0.0.1-t%d", time.Now().UnixNano())

func TestScaffoldFromTheTemplate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gf CLI and a new app")
	}
	root := wstest.RepoRoot(t)
	modulePath := moduleOf(t, root)
	if first, _, _ := strings.Cut(modulePath, "/"); !strings.Contains(first, ".") {
		t.Skipf("module %s has no domain, so no module proxy can serve it as a template", modulePath)
	}
	gf := buildGfCLI(t, root)
	proxy := packModule(t, root, modulePath)
	t.Cleanup(func() { forgetVersion(t, root, modulePath) })
	work := t.TempDir()
	goProxy := strings.TrimSpace(run(t, root, nil, "go", "env", "GOPROXY"))
	env := []string{
		"GOPROXY=file://" + proxy + "," + goProxy,
		"GONOSUMDB=" + modulePath,
		"GOFLAGS=-mod=mod",
	}

	t.Run("make ctrl service on a clean checkout changes nothing", func(t *testing.T) {
		checkout := t.TempDir()
		unpack(t, filepath.Join(proxy, modulePath, "@v", scaffoldVersion+".zip"), modulePath, checkout)
		before := snapshot(t, checkout)
		run(t, checkout, nil, gf, "gen", "ctrl")
		run(t, checkout, nil, gf, "gen", "service")
		if diff := compare(before, snapshot(t, checkout)); diff != "" {
			t.Fatalf("the generators disagree with the committed code; run make ctrl service and commit:\n%s", diff)
		}
	})

	run(t, work, env, gf, "init", "-r", modulePath, "myapp")
	app := filepath.Join(work, "myapp")
	checkRenamed(t, app, modulePath)
	run(t, app, env, "go", "build", "./...")
	run(t, app, env, "go", "vet", "./...")

	t.Run("the README walkthrough adds a WebSocket event and an admin endpoint", func(t *testing.T) {
		addEventAndEndpoint(t, app, env, gf)
	})

	t.Run("gf run restarts the server on a change", func(t *testing.T) {
		gfRunRestarts(t, app, env, gf)
	})

	t.Run("the new app passes its own tests", func(t *testing.T) {
		run(t, app, env, "go", "test", "-count=1", "./...")
	})
}

// buildGfCLI builds the pinned gf CLI once per version into the user cache.
func buildGfCLI(t *testing.T, root string) string {
	t.Helper()
	sum := sha256.New()
	for _, name := range []string{"gf.mod", "gf.sum"} {
		data, err := os.ReadFile(filepath.Join(root, "hack", "tools", name))
		if err != nil {
			t.Fatal(err)
		}
		sum.Write(data)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "template-ws", "gf-"+hex.EncodeToString(sum.Sum(nil))[:12], "gf")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	run(t, root, nil, "go", "build", "-modfile=hack/tools/gf.mod", "-o", bin, "github.com/gogf/gf/cmd/gf/v2")
	return bin
}

func moduleOf(t *testing.T, root string) string {
	t.Helper()
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(gomod), "\n")
	return strings.TrimSpace(strings.TrimPrefix(first, "module"))
}

// packModule writes the repository's files as version v0.0.1 of the module
// into a directory laid out as a GOPROXY.
func packModule(t *testing.T, root, modulePath string) string {
	t.Helper()
	files := strings.Split(strings.TrimRight(run(t, root, nil, "git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"), "\x00"), "\x00")
	proxy := t.TempDir()
	dir := filepath.Join(proxy, modulePath, "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	archive := zip.NewWriter(&buf)
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the working tree
		}
		w, err := archive.Create(modulePath + "@" + scaffoldVersion + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := archive.Close(); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"list":                    []byte(scaffoldVersion + "\n"),
		scaffoldVersion + ".info": []byte(fmt.Sprintf(`{"Version":%q,"Time":%q}`, scaffoldVersion, time.Now().UTC().Format(time.RFC3339))),
		scaffoldVersion + ".mod":  gomod,
		scaffoldVersion + ".zip":  buf.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return proxy
}

// forgetVersion removes this run's version of the template from the module
// cache, whose files are read-only.
func forgetVersion(t *testing.T, root, modulePath string) {
	cache := strings.TrimSpace(run(t, root, nil, "go", "env", "GOMODCACHE"))
	for _, path := range []string{
		filepath.Join(cache, modulePath+"@"+scaffoldVersion),
		filepath.Join(cache, "cache", "download", modulePath, "@v"),
	} {
		_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
		if strings.HasSuffix(path, "@v") {
			matches, _ := filepath.Glob(filepath.Join(path, scaffoldVersion+".*"))
			for _, m := range matches {
				_ = os.Remove(m)
			}
			continue
		}
		_ = os.RemoveAll(path)
	}
}

// unpack extracts a module zip into dir, as a clean checkout.
func unpack(t *testing.T, zipFile, modulePath, dir string) {
	t.Helper()
	archive, err := zip.OpenReader(zipFile)
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	prefix := modulePath + "@" + scaffoldVersion + "/"
	for _, f := range archive.File {
		path := filepath.Join(dir, strings.TrimPrefix(f.Name, prefix))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkRenamed fails if anything of the template's module path is left in
// what builds, configures or deploys the app. Markdown is left out: the
// README tells where the app came from.
func checkRenamed(t *testing.T, app, modulePath string) {
	t.Helper()
	gomod, err := os.ReadFile(filepath.Join(app, "go.mod"))
	if err != nil || !strings.HasPrefix(string(gomod), "module myapp\n") {
		t.Fatalf("go.mod of the new app: %s %v", gomod, err)
	}
	err = filepath.WalkDir(app, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".md") {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && bytes.Contains(data, []byte(modulePath)) {
			t.Errorf("%s still names %s", strings.TrimPrefix(path, app+"/"), modulePath)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot hashes every Go file of the app.
func snapshot(t *testing.T, app string) map[string]string {
	t.Helper()
	hashes := map[string]string{}
	err := filepath.WalkDir(app, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		hashes[strings.TrimPrefix(path, app+"/")] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hashes
}

func compare(before, after map[string]string) string {
	var diff []string
	for name, hash := range after {
		if before[name] == "" {
			diff = append(diff, "added "+name)
		} else if before[name] != hash {
			diff = append(diff, "changed "+name)
		}
	}
	for name := range before {
		if after[name] == "" {
			diff = append(diff, "removed "+name)
		}
	}
	return strings.Join(diff, "\n")
}

// run runs a command in dir with extra environment, failing the test with
// its output if it fails, and returns its output.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// A template is copied as it is: it must not teach what it warns against.
func TestTemplateHygiene(t *testing.T) {
	root := wstest.RepoRoot(t)
	gitignore, err := os.ReadFile(filepath.Join(root, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(gitignore), "config.yaml") {
		t.Error(".gitignore ignores config.yaml, which the template ships")
	}
	for _, name := range []string{"LICENSE", "CHANGELOG.md", "manifest/config/config.yaml"} {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			t.Errorf("missing %s", name)
		}
	}
	alwaysTrue := regexp.MustCompile(`CheckOrigin:\s*func\([^)]*\)\s*bool\s*\{\s*return\s+true`)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && alwaysTrue.Match(data) {
			t.Errorf("%s accepts every origin", strings.TrimPrefix(path, root+"/"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
