package wstest

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
)

// Metric reads one series from baseURL's /metrics, such as
// `ws_connections` or `ws_handshake_rejected_total{reason="origin"}`, and
// fails the test when it is absent.
func Metric(t testing.TB, baseURL, series string) float64 {
	t.Helper()
	resp, err := HTTP.Get(baseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if value, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return v
		}
	}
	t.Fatalf("no series %s in /metrics", series)
	return 0
}
