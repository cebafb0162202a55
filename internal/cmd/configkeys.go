package cmd

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gogf/gf/v2/errors/gerror"
	"github.com/gogf/gf/v2/os/gcfg"
	"github.com/gogf/gf/v2/os/glog"
)

// checkedConfigSections are the sections whose every key this product
// reads. Other sections (server, redis, logger, ...) belong to GoFrame,
// which accepts many more keys than any list here would keep up with.
var checkedConfigSections = []string{"ws", "rooms", "broker", "admin", "fastcgi"}

// knownConfigKeys lists every key of checkedConfigSections, by its dotted
// path. A key that code starts reading from one of these sections must be
// added here: the server refuses to start with a key missing from this list,
// so that a typo is not silently replaced by a default.
var knownConfigKeys = []string{
	"ws.path",
	"ws.allowedOrigins",
	"ws.readBufferSize",
	"ws.writeBufferSize",
	"ws.maxMessageSize",
	"ws.sendQueueSize",
	"ws.sendQueueBytes",
	"ws.writeTimeout",
	"ws.pingInterval",
	"ws.pongTimeout",
	"ws.handshakeTimeout",
	"ws.shutdownTimeout",
	"ws.compression",
	"ws.maxConnections",
	"ws.maxConnectionsPerUser",
	"ws.maxConnectionsPerIP",
	"ws.rateLimit.rate",
	"ws.rateLimit.burst",
	"ws.auth.required",
	"ws.auth.jwtSecret",

	"rooms.maxPerConnection",
	"rooms.presenceEventsLimit",
	"rooms.history.size",
	"rooms.history.ttl",
	"rooms.history.maxBytes",

	"broker.type",
	"broker.nodeId",
	"broker.presenceTTL",
	"broker.prefix",

	"admin.token",

	"fastcgi.address",
}

// knownConfigPaths are knownConfigKeys and the sections between them and
// their top-level section (ws.rateLimit, rooms.history): what an unknown
// key may be a typo of.
var knownConfigPaths = func() []string {
	var paths []string
	for _, key := range knownConfigKeys {
		for i := strings.IndexByte(key, '.') + 1; i < len(key); i++ {
			if key[i] == '.' && !slices.Contains(paths, key[:i]) {
				paths = append(paths, key[:i])
			}
		}
		paths = append(paths, key)
	}
	return paths
}()

// checkConfig refuses a configuration that cannot be read, or that sets a
// key of checkedConfigSections this product does not know, before any key
// is read: either would otherwise leave the server running on defaults.
func checkConfig(ctx context.Context, cfg *gcfg.Config) error {
	if cfg == nil {
		// GoFrame's default instance is nil when the directory it was
		// pointed at (GF_GCFG_PATH, --gf.gcfg.path) does not exist; its
		// adapter's error names the path.
		if _, err := gcfg.NewAdapterFile(); err != nil {
			return fmt.Errorf("config: %w", gerror.Cause(err))
		}
		return errors.New("config: GoFrame could not set up its configuration file adapter")
	}
	if file, isFile := cfg.GetAdapter().(*gcfg.AdapterFile); isFile {
		if _, err := file.GetFilePath(); err != nil {
			glog.Warningf(ctx, "config: no configuration file was found, so every key has its built-in default: %v", gerror.Cause(err))
		}
	}
	data, err := cfg.Data(ctx)
	if err != nil {
		return loadError(cfg, err)
	}
	return checkConfigKeys(data)
}

// checkConfigKeys reports the first key of checkedConfigSections in data
// that knownConfigKeys does not hold, with the closest known key, or a
// top-level section that is a misspelling of one of them (Broker:,
// brokers:), which would leave that section's defaults in force.
func checkConfigKeys(data map[string]any) error {
	for _, name := range slices.Sorted(maps.Keys(data)) {
		if section, misspelt := misspeltSection(name); misspelt {
			return fmt.Errorf("config %s: unknown section; did you mean %s? (keys are case-sensitive)", name, section)
		}
	}
	for _, section := range checkedConfigSections {
		if err := checkConfigSection(section, data[section]); err != nil {
			return err
		}
	}
	return checkOwnServerKeys(data["server"])
}

// ownServerKeys are the keys of the server section this product reads
// itself, by their exact name; ghttp ignores them, and reads its own keys
// in any case.
var ownServerKeys = []string{"trustedProxies", "readHeaderTimeout"}

// checkOwnServerKeys refuses a key of the server section that is another
// case or a typo of one of ownServerKeys: ghttp would ignore it and the
// node would run on that key's default.
func checkOwnServerKeys(section any) error {
	entries, _ := section.(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		for _, own := range ownServerKeys {
			if k != own && keyDistance(k, own) <= 2 {
				return fmt.Errorf("config server.%s: unknown key; did you mean server.%s? (keys are case-sensitive)", k, own)
			}
		}
	}
	return nil
}

// checkConfigSection checks value, found at the dotted path, against the
// known keys below that path.
func checkConfigSection(path string, value any) error {
	if value == nil {
		return nil
	}
	entries, isMap := value.(map[string]any)
	if !isMap {
		return fmt.Errorf("config %s: want a section with the keys %s, got %v",
			path, strings.Join(relativeKeys(path), ", "), value)
	}
	// Sorted, so that the same file always reports the same key first.
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		key := path + "." + k
		switch {
		case slices.Contains(knownConfigKeys, key):
			// Its value is checked where it is read.
		case len(relativeKeys(key)) > 0:
			if err := checkConfigSection(key, entries[k]); err != nil {
				return err
			}
		default:
			return unknownKeyError(key)
		}
	}
	return nil
}

// misspeltSections are the likely misspellings of checked sections that
// are not merely another case of them.
var misspeltSections = map[string]string{"room": "rooms", "brokers": "broker"}

// misspeltSection returns the checked section that name, a top-level key
// other than it, stands for: the same in another case (Broker), or one of
// misspeltSections. Other sections belong to GoFrame or the application,
// whose names may be a letter from ours (aws, admins), so nothing looser
// counts.
func misspeltSection(name string) (string, bool) {
	if slices.Contains(checkedConfigSections, name) {
		return "", false
	}
	if section, ok := misspeltSections[strings.ToLower(name)]; ok {
		return section, true
	}
	for _, section := range checkedConfigSections {
		if strings.EqualFold(name, section) {
			return section, true
		}
	}
	return "", false
}

// relativeKeys returns the known keys below the dotted path, without the
// path: "rate", "burst" for "ws.rateLimit".
func relativeKeys(path string) []string {
	var keys []string
	for _, known := range knownConfigKeys {
		if rest, below := strings.CutPrefix(known, path+"."); below {
			keys = append(keys, rest)
		}
	}
	return keys
}

// unknownKeyError names key and the known key it most likely stands for,
// or, when none is close, the keys its section has.
func unknownKeyError(key string) error {
	if suggestion, found := closestKnownKey(key); found {
		return fmt.Errorf("config %s: unknown key; did you mean %s?", key, suggestion)
	}
	parent := key[:strings.LastIndex(key, ".")]
	return fmt.Errorf("config %s: unknown key, and no known key is close to it; %s has %s",
		key, parent, strings.Join(relativeKeys(parent), ", "))
}

// closestKnownKey returns the known key or section nearest to key, looking
// first in key's own section and then in the others, and whether one is
// near enough to be a likely typo or misplacement.
func closestKnownKey(key string) (string, bool) {
	section, _, _ := strings.Cut(key, ".")
	limit := max(2, len(lastSegment(key))/3)
	var inSection, elsewhere []string
	for _, known := range knownConfigPaths {
		if strings.HasPrefix(known, section+".") {
			inSection = append(inSection, known)
		} else {
			elsewhere = append(elsewhere, known)
		}
	}
	for _, candidates := range [][]string{inSection, elsewhere} {
		best, bestDistance := "", limit+1
		for _, known := range candidates {
			if d := keyDistance(key, known); d < bestDistance {
				best, bestDistance = known, d
			}
		}
		if best != "" {
			return best, true
		}
	}
	return "", false
}

// keyDistance is how far apart two dotted keys are: the edit distance of
// the whole keys, or of their last segments plus one, whichever is less,
// so that a key put at the wrong depth (ws.burst for ws.rateLimit.burst)
// is as near as a one-letter typo. Case is ignored: ws.maxconnections is a
// typo of ws.maxConnections, not a different key.
func keyDistance(a, b string) int {
	a, b = strings.ToLower(a), strings.ToLower(b)
	return min(editDistance(a, b), editDistance(lastSegment(a), lastSegment(b))+1)
}

func lastSegment(key string) string {
	return key[strings.LastIndex(key, ".")+1:]
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	previous := make([]int, len(b)+1)
	current := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current[0] = i
		for j := 1; j <= len(b); j++ {
			substitution := previous[j-1]
			if a[i-1] != b[j-1] {
				substitution++
			}
			current[j] = min(previous[j]+1, current[j-1]+1, substitution)
		}
		previous, current = current, previous
	}
	return previous[len(b)]
}
