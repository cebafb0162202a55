// Command benchratio reads the JSON lines of wsbench runs labelled
// "template" and "reference" on stdin and prints, per mode, the mean of
// each side, their ratio and the target the ratio must meet, as a
// Markdown table for BENCHMARKS.md.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// metric is the figure compared in each mode, and the ratio it must reach:
// at least Target when higher is better, at most Target when lower is.
type metric struct {
	field        string
	target       float64
	higherBetter bool
}

var metrics = map[string]metric{
	"echo":      {"replies_per_sec", 0.90, true},
	"fanout":    {"deliveries_per_sec", 1.50, true},
	"handshake": {"handshakes_per_sec", 0.60, true},
	"idle":      {"bytes_per_conn", 0.80, false},
}

var order = []string{"echo", "fanout", "handshake", "idle"}

func main() {
	sums := map[string]map[string][]float64{}
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		var run map[string]any
		if json.Unmarshal(scanner.Bytes(), &run) != nil {
			continue
		}
		mode, _ := run["mode"].(string)
		label, _ := run["label"].(string)
		m, ok := metrics[mode]
		value, isNumber := run[m.field].(float64)
		if !ok || !isNumber {
			continue
		}
		if sums[mode] == nil {
			sums[mode] = map[string][]float64{}
		}
		sums[mode][label] = append(sums[mode][label], value)
	}
	failed := false
	fmt.Println("| mode | metric | template | reference | ratio | target | met |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, mode := range order {
		m := metrics[mode]
		tmpl, ref := mean(sums[mode]["template"]), mean(sums[mode]["reference"])
		if tmpl == 0 || ref == 0 {
			fmt.Printf("| %s | %s | %s | %s | - | - | no data |\n", mode, m.field, show(tmpl), show(ref))
			failed = true
			continue
		}
		ratio := tmpl / ref
		met := ratio >= m.target
		sign := ">="
		if !m.higherBetter {
			met, sign = ratio <= m.target, "<="
		}
		failed = failed || !met
		fmt.Printf("| %s | %s | %s | %s | %.2fx | %s %.2fx | %s |\n", mode, m.field, show(tmpl), show(ref), ratio, sign, m.target, yes(met))
	}
	if failed {
		os.Exit(1)
	}
}

func mean(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sum := 0.0
	for _, v := range values {
		sum += v
	}
	return sum / float64(len(values))
}

func show(v float64) string { return fmt.Sprintf("%.0f", v) }

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}
