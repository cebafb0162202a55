package edge

import "unicode/utf8"

// MaxQuoted bounds what a refusal or a log line quotes of a request.
const MaxQuoted = 128

// Clip cuts s to at most limit bytes on a character boundary, ending with
// "…" where it cut: messages, close reasons and log lines can quote a
// client's input, and must stay short.
func Clip(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
