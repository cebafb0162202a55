package broker

import (
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

// rerunUnknownScripts runs again, by source and in their order, the
// script calls of a pipeline that Redis refused for not knowing the
// script: the first pipelines after Redis starts, or after its scripts
// were flushed. A script run by source is kept, so the calls after it go
// by SHA1 again. A refused call changed nothing, so running it after the
// rest of its pipeline is as if it had come last.
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
