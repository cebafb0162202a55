package ws

import (
	"testing"
	"time"
)

// A connection is closed for abuse once its messages have been refused
// for rateAbuseWindow without a pause longer than rateAbuseGap; a longer
// pause starts the count again.
func TestRateAbuseWindowAndGap(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	step := rateAbuseGap / 2
	var a rateAbuse
	at := start
	for ; at.Sub(start) < rateAbuseWindow; at = at.Add(step) {
		if a.refused(at) {
			t.Fatalf("closed %s into refusals, before the window of %s", at.Sub(start), rateAbuseWindow)
		}
	}
	if !a.refused(at) {
		t.Fatalf("not closed %s into refusals without a pause", at.Sub(start))
	}

	a = rateAbuse{}
	for at = start; at.Sub(start) < rateAbuseWindow/2; at = at.Add(step) {
		a.refused(at)
	}
	resumed := at.Add(rateAbuseGap + time.Millisecond)
	for at = resumed; at.Sub(resumed) < rateAbuseWindow; at = at.Add(step) {
		if a.refused(at) {
			t.Fatalf("closed %s after a pause longer than %s: the pause did not start the count again", at.Sub(resumed), rateAbuseGap)
		}
	}
	if !a.refused(at) {
		t.Fatalf("not closed %s after refusals resumed", at.Sub(resumed))
	}
}
