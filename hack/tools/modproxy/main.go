// Command modproxy writes the module of the current directory, as it is
// in the working tree, as one version in a directory laid out as a Go
// module proxy. `gf init -r` and `go get` then take it from
// GOPROXY=file://DIR without anything being published:
//
//	go run ./hack/tools/modproxy -o /tmp/proxy [-version v0.2.0]
//
// The files are those git would commit (tracked, or untracked and not
// ignored); outside a git checkout, every file but the .gitignore
// patterns, version-control directories and nested modules, which a
// module proxy leaves out as well.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	out := flag.String("o", "", "the proxy directory to write into (created if missing; other versions in it are kept)")
	version := flag.String("version", "", "the version to write (default v0.0.0-local.<UTC time>, new on each run)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: go run ./hack/tools/modproxy -o DIR [-version vX.Y.Z]")
		os.Exit(2)
	}
	if *version == "" {
		*version = "v0.0.0-local." + time.Now().UTC().Format("20060102150405")
	}
	module, err := write(*out, *version)
	if err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
	dir, _ := filepath.Abs(*out)
	fmt.Printf("wrote %s@%s; take it with\n  GOPROXY=file://%s,$(go env GOPROXY) GONOSUMDB=%s\n", module, *version, dir, module)
}

// write packs the module in the current directory as version into the
// proxy directory out and returns the module's path.
func write(out, version string) (string, error) {
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		return "", fmt.Errorf("%w: run modproxy from the module's root", err)
	}
	module := modulePath(gomod)
	if module == "" {
		return "", errors.New("go.mod has no module line")
	}
	if err := checkVersion(module, version); err != nil {
		return "", err
	}
	files, err := moduleFiles()
	if err != nil {
		return "", err
	}
	archive, err := zipFiles(module+"@"+version+"/", files)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(out, escape(module), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	info, _ := json.Marshal(map[string]string{"Version": version, "Time": time.Now().UTC().Format(time.RFC3339)})
	for name, data := range map[string][]byte{
		version + ".info": info,
		version + ".mod":  gomod,
		version + ".zip":  archive,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", err
		}
	}
	return module, addToList(filepath.Join(dir, "list"), version)
}

func modulePath(gomod []byte) string {
	for line := range strings.SplitSeq(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

var (
	semver      = regexp.MustCompile(`^v(\d+)\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)
	majorSuffix = regexp.MustCompile(`/v(\d+)$`)
)

// checkVersion refuses what the go command would refuse to fetch: a
// version that is not semantic, or whose major version the module path
// does not carry.
func checkVersion(module, version string) error {
	m := semver.FindStringSubmatch(version)
	if m == nil {
		return fmt.Errorf("version %q is not of the form vX.Y.Z or vX.Y.Z-pre", version)
	}
	major, _ := strconv.Atoi(m[1])
	if s := majorSuffix.FindStringSubmatch(module); s != nil {
		if want, _ := strconv.Atoi(s[1]); major != want {
			return fmt.Errorf("version %s does not fit module %s, whose versions are v%d.x.y", version, module, want)
		}
	} else if major > 1 {
		return fmt.Errorf("version %s does not fit module %s, whose versions are v0.x.y or v1.x.y", version, module)
	}
	return nil
}

// escape writes a module path as a proxy's directory names do: each
// upper-case letter as "!" and its lower case.
func escape(module string) string {
	var b strings.Builder
	for _, r := range module {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func zipFiles(prefix string, files []string) ([]byte, error) {
	var buf bytes.Buffer
	archive := zip.NewWriter(&buf)
	for _, name := range files {
		data, err := os.ReadFile(name)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree, not yet in git's index
		}
		if err != nil {
			return nil, err
		}
		w, err := archive.Create(prefix + filepath.ToSlash(name))
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(data); err != nil {
			return nil, err
		}
	}
	if err := archive.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// addToList adds version to a proxy's list of versions.
func addToList(path, version string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	versions := strings.Fields(string(old))
	if !slices.Contains(versions, version) {
		versions = append(versions, version)
	}
	return os.WriteFile(path, []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}

// moduleFiles lists the files of the module, relative to its root.
func moduleFiles() ([]string, error) {
	if exec.Command("git", "rev-parse", "--is-inside-work-tree").Run() == nil {
		out, err := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", "-z").Output()
		if err != nil {
			return nil, fmt.Errorf("git ls-files: %w", err)
		}
		var files []string
		for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
			if name != "" && !inNestedModule(name) {
				files = append(files, name)
			}
		}
		return files, nil
	}
	return walkFiles()
}

// inNestedModule reports whether a file belongs to a module inside this
// one: a directory of its path, below the root, holds a go.mod.
func inNestedModule(name string) bool {
	for dir := filepath.Dir(name); dir != "."; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return true
		}
	}
	return false
}
