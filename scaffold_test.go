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
// new app's own `make test`. hack/tools/modproxy writes the working tree
// into a file:// GOPROXY, so nothing is published.

// templateModule is the module path the template is published under. An
// app made from it with `gf init -r` has its own, and skips the tests in
// templateOnlyTests: they test the template, and the README lists them
// among the files a new app deletes.
const templateModule = "github.com/gfws/template-ws"

var templateOnlyTests = []string{"scaffold_test.go", "scaffold_names_test.go", "scaffold_walkthrough_test.go"}

// templateRoot returns the template's root, or skips the test in an app
// made from the template.
func templateRoot(t *testing.T) string {
	t.Helper()
	if module := wstest.ModulePath(t); module != templateModule {
		t.Skipf("%s is an app made from the template %s, so the template's self-tests do not apply: "+
			"delete %s (README: Starting your own app)", module, templateModule, strings.Join(templateOnlyTests, ", "))
	}
	return wstest.RepoRoot(t)
}

// scaffoldVersion is new each run: the module cache keeps every version it
// has seen, and a reused one would serve an old copy of the template.
var scaffoldVersion = fmt.Sprintf("v0.0.1-t%d", time.Now().UnixNano())

func TestScaffoldFromTheTemplate(t *testing.T) {
	root := templateRoot(t)
	if testing.Short() {
		t.Skip("builds the gf CLI and a new app")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is missing: the new app's own `make test` needs it")
	}
	gf := strings.TrimSpace(run(t, root, nil, "go", "run", "./hack/tools/gfcli", "-patched"))
	proxy := t.TempDir()
	run(t, root, nil, "go", "run", "./hack/tools/modproxy", "-o", proxy, "-version", scaffoldVersion)
	t.Cleanup(func() { forgetVersion(t, root) })
	// -trimpath keeps the build cache's entries of the app independent of
	// its temporary directory, so each run reuses the previous one's.
	env := []string{
		"GOPROXY=file://" + proxy + "," + goEnv(t, root, "GOPROXY"),
		"GONOSUMDB=" + templateModule,
		"GOFLAGS=" + goEnv(t, root, "GOFLAGS") + " -mod=mod -trimpath",
	}

	t.Run("make ctrl service on a clean checkout changes nothing", func(t *testing.T) {
		checkout := t.TempDir()
		unpack(t, filepath.Join(proxy, templateModule, "@v", scaffoldVersion+".zip"), checkout)
		before := snapshot(t, checkout)
		run(t, checkout, nil, gf, "gen", "ctrl")
		run(t, checkout, nil, gf, "gen", "service")
		if diff := compare(before, snapshot(t, checkout)); diff != "" {
			t.Fatalf("the generators disagree with the committed code; run make ctrl service and commit:\n%s", diff)
		}
	})

	work := t.TempDir()
	run(t, work, env, gf, "init", "-r", templateModule, "myapp")
	app := filepath.Join(work, "myapp")
	checkRenamed(t, app)
	// Compiled once here, the packages are in the build cache for both
	// subtests below.
	run(t, app, env, "go", "vet", "./...")
	// The walkthrough edits its own copy, never the tree under test.
	served := filepath.Join(t.TempDir(), "myapp")
	copyTree(t, app, served)

	t.Run("the new app", func(t *testing.T) {
		t.Run("follows the README walkthrough and restarts under gf run", func(t *testing.T) {
			t.Parallel()
			addEventAndEndpoint(t, served, env, gf)
			gfRunRestarts(t, served, env, gf)
		})
		t.Run("passes its own make test", func(t *testing.T) {
			t.Parallel()
			appMakeTest(t, app, env)
		})
	})
}

// appSkips are the app's tests of code it shares with the template
// unchanged, which the template's own run covers.
const appSkips = "^Test(Cluster|GoClientRecovers|MemoryNodeRestart|DemoPageRecovers|DemoPageCounts|DemoPageSays|ContractPage|NonReadingFlooders|HeaderWaits|ReadHeaderTimeout)"

// appMakeTest runs the new app's `make test` on the packages whose tests
// read the app's own files, module path and binary; the others run the
// same code as the template's and are compiled by make test's go vet, as
// are the cluster, recovery and load tests that appSkips leaves out: they
// read no file of the app's. The template's self-tests must skip, and the
// Redis prefix must default to the app's module path, not the template's.
func appMakeTest(t *testing.T, app string, env []string) {
	run(t, app, env, "make", "test", "PKGS=./internal/broker/ ./internal/cmd/", "TESTFLAGS=-count=1 -skip '"+appSkips+"'")
	out := run(t, app, env, "go", "test", "-count=1", "-v",
		"-run", "^(TestScaffoldFromTheTemplate|TestTemplateHygiene|TestDefaultPrefixIsTheModulePath)$", ".", "./internal/broker/")
	for _, want := range []string{
		"--- SKIP: TestScaffoldFromTheTemplate",
		"--- SKIP: TestTemplateHygiene",
		"myapp is an app made from the template " + templateModule,
		"--- PASS: TestDefaultPrefixIsTheModulePath",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the app's tests do not say %q:\n%s", want, out)
		}
	}
}

func goEnv(t *testing.T, dir, name string) string {
	t.Helper()
	return strings.TrimSpace(run(t, dir, nil, "go", "env", name))
}

// forgetVersion removes this run's version of the template from the module
// cache, whose files are read-only.
func forgetVersion(t *testing.T, root string) {
	cache := goEnv(t, root, "GOMODCACHE")
	extracted := filepath.Join(cache, templateModule+"@"+scaffoldVersion)
	_ = filepath.WalkDir(extracted, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	_ = os.RemoveAll(extracted)
	downloads, _ := filepath.Glob(filepath.Join(cache, "cache", "download", templateModule, "@v", scaffoldVersion+".*"))
	for _, name := range downloads {
		_ = os.Remove(name)
	}
}

// unpack extracts a module zip into dir, as a clean checkout.
func unpack(t *testing.T, zipFile, dir string) {
	t.Helper()
	archive, err := zip.OpenReader(zipFile)
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	prefix := templateModule + "@" + scaffoldVersion + "/"
	for _, f := range archive.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, strings.TrimPrefix(f.Name, prefix)), data)
	}
}

// copyTree copies the regular files under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		writeFile(t, filepath.Join(dst, strings.TrimPrefix(path, src)), data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
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
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out.String())
	}
	return out.String()
}

// A template is copied as it is: it must not teach what it warns against.
func TestTemplateHygiene(t *testing.T) {
	root := templateRoot(t)
	gitignore, err := os.ReadFile(filepath.Join(root, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(gitignore), "config.yaml") {
		t.Error(".gitignore ignores config.yaml, which the template ships")
	}
	for _, name := range []string{"LICENSE", "CHANGELOG.md", "manifest/config/config.yaml", "docs/protocol.md"} {
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
