package wstest

import "go.uber.org/goleak"

// FrameworkGoroutines are the goroutines GoFrame starts once per process
// from its package init and keeps for the process's life; they are not
// leaks of the code under test.
func FrameworkGoroutines() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("github.com/gogf/gf/v2/util/grand.asyncProducingRandomBufferBytesLoop"),
		goleak.IgnoreTopFunction("github.com/gogf/gf/v2/os/gtimer.(*Timer).loop"),
	}
}
