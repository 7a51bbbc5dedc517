package main

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// showThreads (-threads) prints where the browser's CPU time went during each fan-out, by thread.
var showThreads bool

// printThreads writes the threads that used CPU between before and after, the busiest first.
func printThreads(w io.Writer, label string, before, after map[string]time.Duration) {
	type use struct {
		name string
		d    time.Duration
	}
	var uses []use
	var total time.Duration
	for name, d := range after {
		if d -= before[name]; d > 0 {
			uses = append(uses, use{name, d})
			total += d
		}
	}
	sort.Slice(uses, func(i, j int) bool { return uses[i].d > uses[j].d })
	fmt.Fprintf(w, "%s: %d ms of CPU\n", label, total.Milliseconds())
	for i, u := range uses {
		if i == 12 || u.d < 20*time.Millisecond {
			break
		}
		fmt.Fprintf(w, "  %6d ms  %s\n", u.d.Milliseconds(), u.name)
	}
}
