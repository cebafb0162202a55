package wstest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gogf/gf/v2/container/gvar"
	"github.com/gogf/gf/v2/database/gredis"
	"github.com/gogf/gf/v2/util/gconv"

	"github.com/gfws/template-ws/internal/broker"
)

// ModulePath is the module path that go.mod declares.
func ModulePath(t testing.TB) string {
	t.Helper()
	goMod, err := os.ReadFile(filepath.Join(RepoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(goMod), "\n")
	module, ok := strings.CutPrefix(first, "module ")
	if !ok {
		t.Fatalf("go.mod starts with %q, not a module line", first)
	}
	return module
}

// Do runs one command on the server.
func (r *Redis) Do(t testing.TB, command string, args ...any) *gvar.Var {
	t.Helper()
	ctx := context.Background()
	client, err := gredis.New(&gredis.Config{Address: r.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(ctx)
	v, err := client.Do(ctx, command, args...)
	if err != nil {
		t.Fatalf("%s %v: %v", command, args, err)
	}
	return v
}

// Info returns the fields of one section of INFO, as Redis reports
// them.
func (r *Redis) Info(t testing.TB, section string) map[string]string {
	t.Helper()
	return broker.InfoFields(r.Do(t, "INFO", section).String())
}

// Subscribers returns how many connections subscribe to channel.
func (r *Redis) Subscribers(t testing.TB, channel string) int {
	t.Helper()
	reply := r.Do(t, "PUBSUB", "NUMSUB", channel).Slice()
	if len(reply) != 2 {
		t.Fatalf("PUBSUB NUMSUB %s: %v", channel, reply)
	}
	return gconv.Int(reply[1])
}

// ExpectNamesUnder fails the test unless every key in the server, and
// every channel with a subscriber, starts with one of prefixes and ":",
// and each prefix starts at least one of them.
func (r *Redis) ExpectNamesUnder(t testing.TB, prefixes ...string) {
	t.Helper()
	names := append(r.Do(t, "KEYS", "*").Strings(), r.Do(t, "PUBSUB", "CHANNELS", "*").Strings()...)
	used := make(map[string]bool)
	for _, name := range names {
		i := slices.IndexFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p+":") })
		if i < 0 {
			t.Fatalf("Redis holds %q, outside the prefixes %q (all: %q)", name, prefixes, names)
		}
		used[prefixes[i]] = true
	}
	for _, p := range prefixes {
		if !used[p] {
			t.Fatalf("nothing in Redis starts with %q (all: %q)", p+":", names)
		}
	}
}
