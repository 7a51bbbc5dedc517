package e2e

import (
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const wasmPath = "/dist/bgfetch.wasm"

// A worker restarted while bgfetch.wasm cannot be fetched (the network gone, the module not fresh in
// the HTTP cache) starts its engine from the copy it kept in Cache Storage: the page's calls are
// answered and the download goes on. Every call used to fail until the module could be fetched.
func engineStartsFromTheKeptModule(s *session, stop func()) {
	t := s.t
	const id = "module-kept"
	s.downloading(id, "", 2<<20) // 32 MiB: 16 s
	require.Eventually(t, func() bool {
		var kept bool
		s.eval(&kept, `harness.moduleKept()`)
		return kept
	}, 30*time.Second, 250*time.Millisecond, "the worker keeps its module, a few seconds after its start")
	s.files.Unreachable(wasmPath, true)
	defer s.files.Unreachable(wasmPath, false)
	stopWorker(s, stop)
	var ids []string
	s.eval(&ids, `harness.getIds()`) // answered by the restarted worker's engine
	assert.Contains(t, ids, id)
	s.succeeded(id, 32<<20, s.sha256("/files/32m.bin"))
	assert.Positive(t, s.files.Refused(wasmPath), "the restarted worker asked the network for its module first")
}

// stopWorker stops the worker with stop (nil: Firefox's short idle timeout stops it between the
// page's pings) and waits until the page's next ping starts it, asking for the unreachable module.
func stopWorker(s *session, stop func()) {
	if stop != nil {
		stop()
	}
	require.Eventually(s.t, func() bool { return s.files.Refused(wasmPath) > 0 }, time.Minute, 100*time.Millisecond,
		"a worker started again")
}

// A worker restarted while its module cannot be had at all (none kept) fails the page's calls as
// transient, so the open page keeps pinging it, and the download resumes once the module can be
// fetched again, with no call from the application. The pings used to end at the first failure.
func pagesRetryAnEngineThatCouldNotStart(s *session, stop func()) {
	t := s.t
	const id = "module-lost"
	s.downloading(id, "", 2<<20) // 32 MiB: 16 s
	s.eval(nil, `harness.dropKeptModule()`)
	s.files.Unreachable(wasmPath, true)
	reachable := false
	defer func() {
		if !reachable {
			s.files.Unreachable(wasmPath, false)
		}
	}()
	stopWorker(s, stop) // a ping restarts it, and its engine cannot start
	var at snapshot
	s.eval(&at, `harness.current(%s)`, js(id))
	require.Empty(t, at.Result, "still downloading")
	s.files.Unreachable(wasmPath, false)
	reachable = true
	progress := s.succeeded(id, 32<<20, s.sha256("/files/32m.bin"))
	assert.Greater(t, progress[len(progress)-1].Downloaded, at.Downloaded)
}
