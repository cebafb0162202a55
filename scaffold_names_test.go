package main_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// keptName is a mention of the template's name that a new app keeps, in
// the file at path ("" for every file), with the reason. Text "" keeps the
// whole file. Everything else an app deploys or shows is named so that it
// needs no renaming: the binary /app/server, the kustomize resources
// server and server-config, the nginx upstream app_nodes, the Redis prefix
// (the app's module path).
type keptName struct{ path, text, why string }

var keptNames = []keptName{
	{"", "template-ws.conf", "the nginx files keep their names: the node's refusals and the tests name them"},
	{"", "template-ws-tls.conf", "likewise"},
	{"", "template-ws-fastcgi.conf", "likewise"},
	{"manifest/deploy/nginx/template-ws-tls.conf", "/etc/ssl/certs/template-ws.crt", "placeholder paths the nginx tests replace"},
	{"manifest/deploy/nginx/template-ws-tls.conf", "/etc/ssl/private/template-ws.key", "likewise"},
	{"internal/cmd/nginx_test.go", `"/etc/ssl/certs/template-ws.crt"`, "likewise"},
	{"internal/cmd/nginx_test.go", `"/etc/ssl/private/template-ws.key"`, "likewise"},
	{"LICENSE", "The template-ws authors", "the template's copyright notice, which copies keep"},
	{"scaffold_test.go", "", "a template self-test, which an app deletes"},
	{"scaffold_names_test.go", "", "likewise"},
	{"scaffold_walkthrough_test.go", "", "likewise"},
	{"hack/bench.sh", "", "the comparison with the reference hub, which an app deletes"},

	// Not renamed yet, in files outside the scaffold's own.
	{".gitignore", "/template-ws\n", "the binary `go build` writes in the template's checkout"},
	{"hack/conformance/fuzzingclient.json", `"agent": "template-ws"`, "the name in the Autobahn report"},
	{"internal/cmd/app.go", `"template-ws-%s-%d"`, "the ghttp server's name"},
	{"internal/cmd/process_test.go", `"template-ws-bin"`, "the test binary's directory"},
	{"internal/cmd/process_test.go", `filepath.Join(dir, "template-ws")`, "the test binary"},
	{"internal/ws/origin_test.go", `"template_ws"`, "the Host an nginx upstream would send"},
	{"internal/wstest/node.go", "a running template-ws node", "a comment"},
	{"internal/wstest/tls.go", `"template-ws test"`, "the test certificate's name"},
	{"resource/public/ws-client.js", "the template-ws envelope", "a comment"},
}

// templateName matches the template's name, and so its module path.
var templateName = regexp.MustCompile(`template[-_]ws`)

// checkRenamed fails if a new app still names the template anywhere but in
// keptNames, or if an entry of keptNames is no longer needed. Markdown is
// left out: the README tells where the app came from.
func checkRenamed(t *testing.T, app string) {
	t.Helper()
	gomod, err := os.ReadFile(filepath.Join(app, "go.mod"))
	if err != nil || !strings.HasPrefix(string(gomod), "module myapp\n") {
		t.Fatalf("go.mod of the new app: %s %v", gomod, err)
	}
	used := make([]bool, len(keptNames))
	err = filepath.WalkDir(app, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".md") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(strings.TrimPrefix(path, app+"/"))
		text := string(data)
		for i, kept := range keptNames {
			if kept.path != "" && kept.path != name || !strings.Contains(text, kept.text) {
				continue
			}
			used[i] = true
			if kept.text == "" {
				return nil
			}
			text = strings.ReplaceAll(text, kept.text, "")
		}
		if at := templateName.FindStringIndex(text); at != nil {
			start := strings.LastIndexByte(text[:at[0]], '\n') + 1
			end, _, _ := strings.Cut(text[start:], "\n")
			t.Errorf("%s names the template in %q: name it so that an app needs no renaming, "+
				"or add it to keptNames with the reason", name, strings.TrimSpace(end))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, kept := range keptNames {
		if !used[i] {
			t.Errorf("keptNames: %q in %q is no longer in the new app; remove it from the list", kept.text, kept.path)
		}
	}
}
