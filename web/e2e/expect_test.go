package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	deviationsOnce sync.Once
	deviations     map[string]map[string]string
)

// deviation returns the recorded reason why a configuration departs from the spec on a check.
func deviation(t *testing.T, cfg, check string) string {
	deviationsOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "native-deviations.json"))
		if err == nil {
			err = json.Unmarshal(b, &deviations)
		}
		if err != nil {
			t.Fatalf("testdata/native-deviations.json: %v", err)
		}
	})
	return deviations[cfg][check]
}

// expect asserts a rule of the spec. A configuration may miss it only where the deviation is
// listed in testdata/native-deviations.json, and a listed deviation that no longer shows fails too.
func (s *session) expect(check string, ok bool, format string, args ...any) {
	s.t.Helper()
	reason := deviation(s.t, s.cfg.name, check)
	switch {
	case ok && surprising(ok, reason):
		s.t.Errorf("%s: %s now follows the spec; remove it from testdata/native-deviations.json", s.cfg.name, check)
	case !ok && reason != "":
		s.t.Logf("known deviation of %s (%s): %s", s.cfg.name, check, reason)
	case !ok:
		s.t.Errorf("%s: "+format, append([]any{check}, args...)...)
	}
}

// surprising reports whether a check's outcome fails the run: a miss that is not a listed
// deviation, or a pass where one is listed (unless it is listed as one that varies).
func surprising(ok bool, reason string) bool {
	if ok {
		return reason != "" && !strings.HasPrefix(reason, "Varies: ")
	}
	return reason == ""
}
