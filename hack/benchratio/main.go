// Command benchratio reads the JSON lines of wsbench runs on stdin and
// prints, per comparison, the mean of each side, their ratio and the
// target the ratio must meet, as a Markdown table for BENCHMARKS.md. A run
// is a side of a comparison by its mode and label; most compare the
// template, on one node or on two through Redis (labels "template" and
// "redis"), with the reference hub ("reference"), one compares two modes
// run through the Redis broker, one the template with room history on and
// off. Further tables hold the room fills' CPU time per join and the
// latencies that have a limit of their own rather than a ratio.
//
//	benchratio [-only load|rooms|recovery] <results.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
)

// run names the wsbench lines of one side: their mode and label.
type run struct{ mode, label string }

func (r run) String() string { return r.mode + " " + r.label }

// comparison divides field's mean over the runs of of by its mean over
// the runs of against; the ratio must be at least target when higher is
// better, at most target when lower is. section is the part of
// hack/bench.sh that produces both sides.
type comparison struct {
	section      string
	field        string
	of, against  run
	target       float64
	higherBetter bool
}

var comparisons = []comparison{
	{"load", "replies_per_sec", run{"echo", "template"}, run{"echo", "reference"}, 1.30, true},
	{"load", "deliveries_per_sec", run{"fanout", "template"}, run{"fanout", "reference"}, 2.00, true},
	{"load", "handshakes_per_sec", run{"handshake", "template"}, run{"handshake", "reference"}, 0.95, true},
	{"load", "bytes_per_conn", run{"idle", "template"}, run{"idle", "reference"}, 0.80, false},
	{"rooms", "join_sec", run{"roomfill", "template"}, run{"roomfill", "reference"}, 1.50, false},
	{"rooms", "deliveries_per_sec", run{"roomfill", "template"}, run{"roomfill", "reference"}, 1.50, true},
	{"rooms", "join_sec", run{"roomfill", "redis"}, run{"roomfill", "reference"}, 1.50, false},
	{"rooms", "deliveries_per_sec", run{"roomfill", "redis"}, run{"roomfill", "reference"}, 1.50, true},
	{"rooms", "deliveries_per_sec", run{"crossnode", "redis"}, run{"fanout", "redis"}, 0.70, true},
	{"recovery", "deliveries_per_sec", run{"fanout", "history-on"}, run{"fanout", "history-off"}, 0.75, true},
}

// limit is a run whose mean field must be at most max: an absolute
// bound rather than a ratio to the reference.
type limit struct {
	section string
	of      run
	field   string
	max     float64
}

var limits = []limit{
	{"load", run{"idle", "template"}, "bytes_per_conn", 8192},
	{"load", run{"idle", "template"}, "cpu_percent", 2},
	{"recovery", run{"recover", "memory"}, "p50_ms", 10},
	{"recovery", run{"recover", "redis"}, "p50_ms", 20},
}

var sections = []string{"load", "rooms", "recovery"}

func main() {
	only := flag.String("only", "", "compare only this section of hack/bench.sh: load, rooms or recovery (default all)")
	flag.Parse()
	if *only != "" && !slices.Contains(sections, *only) {
		fmt.Fprintf(os.Stderr, "benchratio: -only %q: want load, rooms or recovery\n", *only)
		os.Exit(2)
	}
	values := map[run]map[string][]float64{}
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		var line map[string]any
		if json.Unmarshal(scanner.Bytes(), &line) != nil {
			continue
		}
		mode, _ := line["mode"].(string)
		label, _ := line["label"].(string)
		r := run{mode, label}
		if values[r] == nil {
			values[r] = map[string][]float64{}
		}
		for field, v := range line {
			switch v := v.(type) {
			case float64:
				values[r][field] = append(values[r][field], v)
			case []any: // element i of a list is field[i]
				for i, e := range v {
					if n, ok := e.(float64); ok {
						key := fmt.Sprintf("%s[%d]", field, i)
						values[r][key] = append(values[r][key], n)
					}
				}
			}
		}
	}
	failed := false
	fmt.Println("| metric | run | value | against | value | ratio | target | met |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, c := range comparisons {
		if *only != "" && c.section != *only {
			continue
		}
		of, against := mean(values[c.of][c.field]), mean(values[c.against][c.field])
		if of == 0 || against == 0 {
			fmt.Printf("| %s | %s | %s | %s | %s | - | - | no data |\n", c.field, c.of, show(of), c.against, show(against))
			failed = true
			continue
		}
		ratio := of / against
		met := ratio >= c.target
		sign := ">="
		if !c.higherBetter {
			met, sign = ratio <= c.target, "<="
		}
		failed = failed || !met
		fmt.Printf("| %s | %s | %s | %s | %s | %.2fx | %s %.2fx | %s |\n",
			c.field, c.of, show(of), c.against, show(against), ratio, sign, c.target, yes(met))
	}
	if *only == "" || *only == "rooms" {
		printJoinCPU(values)
	}
	if !printLimits(values, *only) || failed {
		os.Exit(1)
	}
}

// printLimits prints the limits of section only (all when only is "")
// and reports whether each was met. Besides the mean, a latency shows its
// mean p90 and largest max.
func printLimits(values map[run]map[string][]float64, only string) bool {
	met := true
	header := false
	for _, l := range limits {
		if only != "" && l.section != only {
			continue
		}
		if !header {
			fmt.Println()
			fmt.Println("| metric | run | value | detail | limit | met |")
			fmt.Println("|---|---|---|---|---|---|")
			header = true
		}
		v := values[l.of]
		if len(v[l.field]) == 0 {
			fmt.Printf("| %s | %s | - | - | <= %s | no data |\n", l.field, l.of, show(l.max))
			met = false
			continue
		}
		value := mean(v[l.field])
		ok := value <= l.max
		met = met && ok
		detail := ""
		if l.field == "p50_ms" && len(v["max_ms"]) > 0 {
			detail = fmt.Sprintf("p90 %.3f, max %.3f", mean(v["p90_ms"]), slices.Max(v["max_ms"]))
		}
		fmt.Printf("| %s | %s | %s | %s | <= %s | %s |\n", l.field, l.of, show(value), detail, show(l.max), yes(ok))
	}
	return met
}

// joinCPURuns are the room fills whose join phase and CPU per join are
// shown, and what their -server-pids were: "two-nodes" is the template on
// two memory-broker nodes, each filling its own room.
var joinCPURuns = []struct {
	of        run
	processes []string
}{
	{run{"roomfill", "reference"}, []string{"reference hub"}},
	{run{"roomfill", "template"}, []string{"template"}},
	{run{"roomfill", "two-nodes"}, []string{"node A", "node B"}},
	{run{"roomfill", "redis"}, []string{"node A", "node B", "redis-server"}},
}

// printJoinCPU prints, for each room fill, the CPU time per join of its
// servers, process by process, and of the load tool: with every core
// busy, a fill takes about as long as their total allows.
func printJoinCPU(values map[run]map[string][]float64) {
	fmt.Println()
	fmt.Println("| room fill | join phase (s) | servers' CPU per join (us) | by process | load tool's (us) | total (us) |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, c := range joinCPURuns {
		v := values[c.of]
		if len(v["join_server_cpu_us"]) == 0 {
			continue
		}
		var byProcess []string
		for i, name := range c.processes {
			if each := v[fmt.Sprintf("join_server_cpu_us_by_pid[%d]", i)]; len(each) > 0 {
				byProcess = append(byProcess, fmt.Sprintf("%s %.1f", name, mean(each)))
			}
		}
		server, client := mean(v["join_server_cpu_us"]), mean(v["join_client_cpu_us"])
		fmt.Printf("| %s | %.3f | %.1f | %s | %.1f | %.1f |\n", c.of, mean(v["join_sec"]), server, strings.Join(byProcess, ", "), client, server+client)
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

// show prints whole numbers as such and small ones, such as seconds, with
// three decimals.
func show(v float64) string {
	if v < 100 {
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}
