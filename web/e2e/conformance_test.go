package e2e

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// check is one named assertion of a conformance scenario (testdata/site/conformance/).
type check struct {
	Check, Detail string
	OK            bool
}

// tally counts the scenarios of one configuration by outcome.
type tally struct {
	config                string
	pass, excused, failed int
	failures              []string
}

var (
	talliesMu sync.Mutex
	tallies   []*tally
)

// TestConformance runs every scenario of the conformance suite in every configuration. A scenario
// passes when all its checks hold; it is excused when each failing check is a listed deviation.
func TestConformance(t *testing.T) {
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			ct := t
			s := newSession(t, cfg)
			var names []string
			s.eval(&names, `conformance.list()`)
			if len(names) == 0 {
				t.Fatal("no conformance scenarios loaded")
			}
			tl := &tally{config: cfg.name}
			talliesMu.Lock()
			tallies = append(tallies, tl)
			talliesMu.Unlock()
			for _, name := range names {
				t.Run(name, func(t *testing.T) {
					s.t = t
					if reason := deviation(t, cfg.name, name+"/*"); reason != "" {
						// The whole scenario cannot run there (it would take the page down): listed, not hidden.
						t.Logf("not run in %s, a listed deviation: %s", cfg.name, reason)
						tl.excused++
						return
					}
					var checks []check
					s.eval(&checks, `conformance.run(%s)`, js(name))
					if failing := unexpected(t, cfg.name, checks); cfg.native && failing != "" {
						// Native Chromium's download service sometimes stops completing fetches, and
						// later ones then fail its per-origin limit: the reference gets a fresh
						// browser and one more try. The polyfill's configurations get none.
						t.Logf("native Chromium failed %s; again in a fresh browser", failing)
						_ = s.b.Close()
						s = startSession(t, ct, cfg)
						checks = nil
						s.eval(&checks, `conformance.run(%s)`, js(name))
					}
					excused := false
					for _, c := range checks {
						if deviation(t, cfg.name, c.Check) != "" && !c.OK {
							excused = true
						}
						s.expect(c.Check, c.OK, "%s", c.Detail)
					}
					switch {
					case t.Failed():
						tl.failed++
						tl.failures = append(tl.failures, name)
					case excused:
						tl.excused++
					default:
						tl.pass++
					}
				})
			}
			t.Logf("conformance %s: %d of %d scenarios pass, %d excused by listed deviations, %d fail",
				cfg.name, tl.pass, len(names), tl.excused, tl.failed)
		})
	}
}

// unexpected names the first check whose outcome testdata/native-deviations.json does not allow
// (as session.expect judges it), or returns "".
func unexpected(t *testing.T, cfg string, checks []check) string {
	for _, c := range checks {
		if surprising(c.OK, deviation(t, cfg, c.Check)) {
			return c.Check + ": " + c.Detail
		}
	}
	return ""
}

// conformanceSummary is the per-configuration table printed after the run.
func conformanceSummary() string {
	talliesMu.Lock()
	defer talliesMu.Unlock()
	if len(tallies) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s %9s %6s %8s %6s\n", "conformance", "scenarios", "pass", "excused", "fail")
	for _, tl := range tallies {
		fmt.Fprintf(&b, "%-20s %9d %6d %8d %6d\n", tl.config, tl.pass+tl.excused+tl.failed, tl.pass, tl.excused, tl.failed)
		if len(tl.failures) > 0 {
			fmt.Fprintf(&b, "  failing: %s\n", strings.Join(tl.failures, ", "))
		}
	}
	return b.String()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if summary := conformanceSummary(); summary != "" {
		// go test shows a passing package's output only with -v: the Makefile prints this file.
		if path := os.Getenv("BGFETCH_SUMMARY"); path != "" {
			_ = os.WriteFile(path, []byte(summary), 0o644)
		}
		fmt.Print(summary)
	}
	os.Exit(code)
}
