package cmd_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gogf/gf/v2/encoding/gjson"

	"github.com/gfws/template-ws/internal/ws"
	"github.com/gfws/template-ws/internal/wstest"
)

// The deployment must give the drain time to finish and point the probes
// at the endpoints that mean what the orchestrator needs.
func TestKustomizeDeploymentFitsTheDrain(t *testing.T) {
	t.Parallel()
	root := wstest.RepoRoot(t)
	deployment, err := gjson.LoadPath(filepath.Join(root, "manifest", "deploy", "kustomize", "base", "deployment.yaml"), gjson.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ws.LoadConfig(context.Background(), wstest.Config(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	grace := time.Duration(deployment.Get("spec.template.spec.terminationGracePeriodSeconds").Int()) * time.Second
	if grace <= cfg.ShutdownTimeout {
		t.Errorf("terminationGracePeriodSeconds %s is not above ws.shutdownTimeout %s", grace, cfg.ShutdownTimeout)
	}
	container := "spec.template.spec.containers.0."
	for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz"} {
		if got := deployment.Get(container + probe + ".httpGet.path").String(); got != path {
			t.Errorf("%s path %q, want %q", probe, got, path)
		}
	}
}

// The image's Go must be able to build the module.
func TestDockerfileGoVersionBuildsTheModule(t *testing.T) {
	t.Parallel()
	root := wstest.RepoRoot(t)
	dockerfile, err := os.ReadFile(filepath.Join(root, "manifest", "docker", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	image := regexp.MustCompile(`FROM golang:(\d+)\.(\d+)`).FindSubmatch(dockerfile)
	module := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindSubmatch(gomod)
	if image == nil || module == nil {
		t.Fatalf("cannot read the Go versions of the Dockerfile and go.mod")
	}
	version := func(m [][]byte) int {
		major, _ := strconv.Atoi(string(m[1]))
		minor, _ := strconv.Atoi(string(m[2]))
		return major*1000 + minor
	}
	if version(image) < version(module) {
		t.Fatalf("Dockerfile builds with Go %s.%s, go.mod needs %s.%s", image[1], image[2], module[1], module[2])
	}
}
