package broker

import (
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"
	"unicode"
)

// names builds every Redis key and channel of the broker from one prefix.
// Two applications on one Redis must differ in it: Pub/Sub ignores the
// database number, so a shared prefix mixes their deliveries and presence.
type names struct{ prefix string }

// shared are the keys that every room's calls take: keptKeys, then the
// one that numbers the presence changes of every room.
func (n names) shared() []string {
	p := n.prefix
	return []string{p + ":kept:bytes", p + ":kept:total", p + ":kept:used", p + ":presence"}
}

func (n names) everyone() string        { return n.prefix + ":all" }
func (n names) room(room string) string { return n.prefix + ":room:" + room }
func (n names) user(user string) string { return n.prefix + ":user:" + user }

// channel is where m travels: deliveries to a room or a user on their own
// channel, which only nodes holding a member or a connection of it
// subscribe to; deliveries to everyone and connection kicks, whose
// connection no node can locate, on the channel every node has.
func (n names) channel(m Message) string {
	switch m.Kind {
	case ToRoom:
		return n.room(m.Target)
	case ToUser, KickUser:
		return n.user(m.Target)
	default:
		return n.everyone()
	}
}

// DefaultPrefix is the prefix of an application that configures none: the
// Go module path of the running program, which `gf init -r` changes, so a
// new application never shares names with the template or another one.
func DefaultPrefix() string {
	info, _ := debug.ReadBuildInfo()
	return modulePrefix(info)
}

// modulePrefix is the main module's path from info. `go run main.go`
// builds without module information (the main package is then
// "command-line-arguments"), so it falls back to the module named by this
// package's own import path: an internal package belongs to the module of
// the program that imports it. Both ways give one name for every node of
// an application, however each was built.
func modulePrefix(info *debug.BuildInfo) string {
	if info != nil && info.Main.Path != "" {
		return info.Main.Path
	}
	return strings.TrimSuffix(reflect.TypeFor[names]().PkgPath(), "/internal/broker")
}

// CheckPrefix reports why prefix cannot name Redis keys and channels.
func CheckPrefix(prefix string) error {
	if prefix == "" {
		return errors.New("the prefix is empty; name the application, e.g. \"myapp\"")
	}
	if strings.IndexFunc(prefix, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Errorf("%q has a space or control character; use letters, digits and punctuation such as \"example.com/myapp\"", prefix)
	}
	return nil
}
