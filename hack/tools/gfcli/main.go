// Command gfcli prints the path of the gf CLI that the make targets run,
// building it first when there is none:
//
//   - a gf on PATH whose `gf -v` is the version pinned in
//     hack/tools/gf.mod;
//   - else that version, built once per machine into the user's cache
//     directory and shared by every checkout, app and test run that pins
//     the same hack/tools/gf.mod.
//
// With -patched it skips PATH and always answers the cached build, which
// carries the fixes of gf run described in build.go.
//
// Run it from the module's root: go run ./hack/tools/gfcli [-patched]
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// gfModule is the gf CLI's module in hack/tools/gf.mod.
const gfModule = "github.com/gogf/gf/cmd/gf/v2"

func main() {
	patched := flag.Bool("patched", false, "ignore a gf on PATH: answer the cached build, whose gf run reaps the process it replaces and builds every change")
	flag.Parse()
	path, err := resolve(*patched)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gfcli:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

func resolve(patched bool) (string, error) {
	mod, err := os.ReadFile(filepath.Join("hack", "tools", "gf.mod"))
	if err != nil {
		return "", fmt.Errorf("%w: run gfcli from the module's root", err)
	}
	sum, err := os.ReadFile(filepath.Join("hack", "tools", "gf.sum"))
	if err != nil {
		return "", err
	}
	version := requiredVersion(mod, gfModule)
	if version == "" {
		return "", fmt.Errorf("hack/tools/gf.mod does not require %s", gfModule)
	}
	if !patched {
		if onPath, err := exec.LookPath("gf"); err == nil && versionOf(onPath) == version {
			return onPath, nil
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	key := sha256.Sum256(append(append(append([]byte{}, mod...), sum...), fixesKey()...))
	bin := filepath.Join(cache, "gf-cli", version+"-"+hex.EncodeToString(key[:])[:12], "gf")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	fmt.Fprintf(os.Stderr, "gfcli: building gf CLI %s into %s, once per machine (a few minutes)\n", version, filepath.Dir(bin))
	if err := build(mod, sum, bin); err != nil {
		return "", fmt.Errorf("build gf CLI %s: %w", version, err)
	}
	return bin, nil
}

// requiredVersion returns the version of module in the require lines of a
// go.mod file, or "".
func requiredVersion(gomod []byte, module string) string {
	lines := bufio.NewScanner(bytes.NewReader(gomod))
	for lines.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(lines.Text()), "require "))
		if len(fields) >= 2 && fields[0] == module {
			return fields[1]
		}
	}
	return ""
}

// versionOf returns the version a gf binary reports, or "".
func versionOf(gf string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, gf, "-v").Output()
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first)
}

// goCommand runs go in dir with the workspace off and returns its output;
// a failure carries the command's own words.
func goCommand(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.New("go " + strings.Join(args, " ") + ": " + err.Error() + "\n" + stderr.String())
	}
	return out, nil
}
