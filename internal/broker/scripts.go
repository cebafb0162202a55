package broker

import (
	"context"
	"slices"

	goredis "github.com/redis/go-redis/v9"
)

// scriptSources maps the SHA1 of each script the writer runs to its
// source.
var scriptSources = make(map[string]string)

// newScript returns a script for the writer's pipelines, which run it
// by SHA1 (EVALSHA): sent whole on every call, its source would cross
// the network and be hashed by Redis each time, which cost Redis more
// than a small script's own work.
func newScript(source string) *goredis.Script {
	s := goredis.NewScript(source)
	scriptSources[s.Hash()] = source
	return s
}

// loadScriptsOnConnect has each new connection of client load every
// script before its first command. Redis forgets its scripts when it
// restarts or fails over, and every connection is new then. Without the
// load, the first pipelines would meet unknown scripts, and another
// node loading one while Redis was halfway through such a pipeline would
// have its first calls refused and its later ones run: running the
// refused ones again would put them after the rest, out of their order.
// A load that fails (a user not allowed SCRIPT) leaves the connection to
// rerunUnknownScripts.
func loadScriptsOnConnect(client goredis.UniversalClient) {
	load := func(ctx context.Context, conn *goredis.Conn) error {
		_, _ = conn.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, source := range scriptSources {
				p.ScriptLoad(ctx, source)
			}
			return nil
		})
		return nil
	}
	switch c := client.(type) {
	case *goredis.Client: // one server, or Sentinel's
		c.Options().OnConnect = load
	case *goredis.ClusterClient:
		c.Options().OnConnect = load
	}
}

// rerunUnknownScripts runs again, by source and in their order, the
// script calls of a pipeline that Redis refused for not knowing the
// script: its scripts were flushed under a connection that had loaded
// them, or the connection's load failed. A script run by source is kept,
// so the calls after it go by SHA1 again. A refused call changed nothing,
// so running it after the rest of its pipeline is as if it had come last;
// that holds unless the script became known halfway through the
// pipeline, which loadScriptsOnConnect keeps to a flush.
func (r *Redis) rerunUnknownScripts(cmds []goredis.Cmder) {
	var refused []*goredis.Cmd
	for _, c := range cmds {
		if cmd, ok := c.(*goredis.Cmd); ok && goredis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			refused = append(refused, cmd)
		}
	}
	if len(refused) == 0 {
		return
	}
	again := make([]*goredis.Cmd, len(refused))
	_, _ = r.raw.Pipelined(r.ctx, func(p goredis.Pipeliner) error {
		for i, cmd := range refused {
			args := slices.Clone(cmd.Args())
			sha, _ := args[1].(string)
			args[0], args[1] = "eval", scriptSources[sha]
			again[i] = p.Do(r.ctx, args...)
		}
		return nil
	})
	for i, cmd := range refused {
		cmd.SetVal(again[i].Val())
		cmd.SetErr(again[i].Err())
	}
}
