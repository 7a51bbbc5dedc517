package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bgfetch/bgfetch/wasm/core"
	"github.com/bgfetch/bgfetch/web/e2e/browser"
	"github.com/bgfetch/bgfetch/web/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// segmentSize is the engine's segment: the most a stop may make it fetch twice.
const segmentSize = 4 << 20

// resumeOverlap is how many stored bytes a resume asks for again, to check it continues them.
var resumeOverlap = core.DefaultConfig().ResumeOverlap

// bodyWindow is how much of a large body one request asks for (core.Config.Window).
var bodyWindow = core.DefaultConfig().Window

// firefoxIdle is Firefox stopping idle service workers within seconds, even with a pending
// waitUntil: the browser itself interrupts downloads and completion events.
var firefoxIdle = config{name: "firefox-idle", launch: func(ctx context.Context) (browser.Browser, error) {
	return browser.LaunchFirefox(ctx, browser.FirefoxOptions{Prefs: map[string]any{
		"dom.serviceWorkers.idle_timeout":          1000,
		"dom.serviceWorkers.idle_extended_timeout": 2000,
	}})
}}

// TestResilience interrupts downloads in every way the polyfill must survive, in Chromium
// (native API disabled), Firefox ESR and WebKitGTK, and checks bodies by SHA-256 and the wire by the server log.
func TestResilience(t *testing.T) {
	t.Run("chromium-polyfill", func(t *testing.T) {
		s := newSession(t, configs[0])
		stop := func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(s.t, s.b.(*browser.Chromium).StopAllWorkers(ctx))
		}
		run := func(name string, f func(*session)) { t.Run(name, func(t *testing.T) { s.t = t; f(s) }) }
		run("QuotaExceeded", quotaExceeded) // first: the origin's usage is small and settled
		run("WorkerStoppedMidDownload", func(s *session) { workerStoppedMidDownload(s, stop) })
		run("InterruptedCompletionIsDispatchedOnce", func(s *session) { interruptedCompletion(s, stop) })
		run("IdlePageLoadLeavesTheWorkerStopped", func(s *session) { idlePageLoad(s, stop) })
		run("EngineStartsFromTheKeptModule", func(s *session) { engineStartsFromTheKeptModule(s, stop) })
		run("PagesRetryAnEngineThatCouldNotStart", func(s *session) { pagesRetryAnEngineThatCouldNotStart(s, stop) })
		networkFaults(run)
		// Not in Firefox, which ends an encoded body cut short as if it were whole (README, "Network faults").
		run("EncodedCrossOriginResumeRefetchesTheWholeBody", encodedCrossOrigin)
		run("OfflineDownloadWaitsForTheNetwork", offlineVia(s.b.(*browser.Chromium).SetWorkersOffline))
		pagesOnly(run)
		run("IdleWorkerUnregistered", func(s *session) { idleWorkerUnregistered(s, stop) })
		run("UnregisteredElsewhereWhileStopped", func(s *session) { unregisteredElsewhereWhileStopped(s, stop) })
		run("UnregisterAndLeaveWhileStopped", func(s *session) { unregisterAndLeave(s, stop) })
		run("DatabaseDeletedWhileStopped", func(s *session) { databaseDeletedWhileStopped(s, stop) })
		run("SiteDataCleared", siteDataCleared)
		t.Run("BrowserKilledAndRestarted", browserKilledAndRestarted)
	})
	t.Run("firefox-polyfill", func(t *testing.T) {
		s := newSession(t, configs[1])
		run := func(name string, f func(*session)) { t.Run(name, func(t *testing.T) { s.t = t; f(s) }) }
		networkFaults(run)
		run("OfflineDownloadWaitsForTheNetwork", offlineVia(s.b.(*browser.Firefox).SetOffline))
		pagesOnly(run)
		run("KeptAliveWhileAPageIsOpen", keptAlive)
	})
	t.Run("webkit-polyfill", func(t *testing.T) {
		s := newSession(t, configs[3])
		run := func(name string, f func(*session)) { t.Run(name, func(t *testing.T) { s.t = t; f(s) }) }
		networkFaults(run)
		// WebKit passes the undecodable slice of a resume on: the bytes asked again tell it apart.
		run("EncodedCrossOriginResumeRefetchesTheWholeBody", encodedCrossOrigin)
		pagesOnly(run)
		run("KeptAliveWhileAPageIsOpen", keptAlive)
	})
	t.Run(firefoxIdle.name, func(t *testing.T) {
		s := newSession(t, firefoxIdle)
		run := func(name string, f func(*session)) { t.Run(name, func(t *testing.T) { s.t = t; f(s) }) }
		run("WorkerStoppedMidDownload", func(s *session) { workerStoppedMidDownload(s, nil) })
		run("InterruptedCompletionIsDispatchedOnce", func(s *session) { interruptedCompletion(s, nil) })
		run("EngineStartsFromTheKeptModule", func(s *session) { engineStartsFromTheKeptModule(s, nil) })
		run("PagesRetryAnEngineThatCouldNotStart", func(s *session) { pagesRetryAnEngineThatCouldNotStart(s, nil) })
	})
}

// pagesOnly runs the tests that need no control of the browser beyond its pages.
func pagesOnly(run func(string, func(*session))) {
	run("ManyConcurrentFetches", manyConcurrentFetches)
	run("ScopesAreIsolated", scopesAreIsolated)
	run("DatabaseDeletedWhileDownloading", databaseDeletedWhileDownloading)
	run("NewWorkerVersionWaits", newWorkerVersionWaits)
	run("AdoptedInANewVersion", adoptedInANewVersion)
	run("UnregisterEndsFetches", unregisterEndsFetches)
	run("WorkerUnregistersItself", workerUnregistersItself)
	run("UnregisterAndLeave", func(s *session) { unregisterAndLeave(s, nil) })
	run("UnregisterTwice", unregisterTwice)
	run("RegisteredAgainBeforeItWent", registerAgain)
	run("LargeBodyComesInWindows", largeBodyInWindows)
}

// A large body comes in windows: its response is cut after one (core.Config.Window) and each
// window is the next bytes, so the browser holds little more than a window beyond what the worker
// has read (Firefox held the rest of the body: README, "Large bodies").
func largeBodyInWindows(s *session) {
	t := s.t
	const size = 64 << 20
	path := "/files/64m.bin?t=" + unique()
	s.eval(nil, `harness.start("behind", %s)`, js([]string{path}))
	s.succeeded("behind", size, s.sha256("/files/64m.bin"))
	log := s.requests(path)
	require.NotEmpty(t, log)
	assert.Empty(t, log[0].Range)
	require.Greater(t, len(log), 1, "windows followed the first response")
	next := int64(-1)
	for _, e := range log[1:] {
		var first, last int64
		_, err := fmt.Sscanf(e.Range, "bytes=%d-%d", &first, &last)
		require.NoError(t, err, "a window is a bounded range: %q", e.Range)
		assert.Equal(t, 206, e.Status)
		assert.NotEmpty(t, e.IfRange, "with the validator")
		assert.LessOrEqual(t, last-first+1, bodyWindow)
		if next < 0 {
			assert.GreaterOrEqual(t, first, bodyWindow, "the response was read for a window")
			assert.LessOrEqual(t, first, log[0].Bytes, "the first window starts where the response was cut")
		} else {
			assert.Equal(t, next, first, "each window starts where the one before ended")
		}
		next = last + 1
	}
	assert.EqualValues(t, size, next, "the last window ends the body")
	var cut int64
	fmt.Sscanf(log[1].Range, "bytes=%d-", &cut)
	t.Logf("cut at %d, %d bytes sent; %d windows; %d bytes fetched twice", cut, log[0].Bytes, len(log)-1, refetched(log, size))
}

func networkFaults(run func(string, func(*session))) {
	run("DroppedConnectionResumesWithRange", droppedConnection)
	run("ServerIgnoringRangeRestartsFromZero", ignoredRange)
	run("ChangedETagRestartsWithNewVersion", changedETag)
	run("ChangedUnderTheSameETagRestartsWithNewVersion", changedUnderTheSameETag)
	run("StalledConnectionIsRetried", stalledConnection)
	run("RefusedCrossOriginResumeRefetchesTheWholeBody", refusedPreflight)
	run("RecordTakenBeforeARestartReadsTheNewBody", takenBeforeRestart)
}

// unique makes a URL fresh for the server's one-shot faults.
func unique() string { return fmt.Sprint(time.Now().UnixNano()) }

// requests returns the server's log entries for one exact path and query.
func (s *session) requests(pathQuery string) []server.Entry {
	path, query, _ := strings.Cut(pathQuery, "?")
	var out []server.Entry
	for _, e := range s.files.Log() {
		if e.Path == path && e.RawQuery == query {
			out = append(out, e)
		}
	}
	return out
}

// refetched is how many body bytes the server sent beyond one copy of the file.
// resumes are the requests of entries that ask for the rest of a body (a window asks for a
// bounded range: core.Config.Window).
func resumes(entries []server.Entry) []server.Entry {
	var out []server.Entry
	for _, e := range entries {
		if strings.HasPrefix(e.Range, "bytes=") && strings.HasSuffix(e.Range, "-") {
			out = append(out, e)
		}
	}
	return out
}

func refetched(entries []server.Entry, size int64) int64 {
	var sent int64
	for _, e := range entries {
		sent += e.Bytes
	}
	return sent - size
}

// succeeded waits for the completion of a one-file fetch and checks it succeeded with want's body.
func (s *session) succeeded(id string, size int64, want string) []entry {
	t := s.t
	progress, worker := s.finished(id, 3*time.Minute)
	require.NotEmpty(t, progress)
	final := progress[len(progress)-1]
	assert.Equal(t, "success", final.Result)
	assert.EqualValues(t, size, final.Downloaded, "downloaded ends at the size")
	assert.Equal(t, "backgroundfetchsuccess", worker.Event)
	require.Len(t, worker.Records, 1)
	assert.Equal(t, 200, worker.Records[0].Status)
	assert.Equal(t, want, worker.Records[0].SHA256, "the body is byte-exact")
	s.nothingStored()
	return progress
}

// nothingStored checks that, once every fetch has settled, the database of scope (default
// the page's) holds no data.
func (s *session) nothingStored(scope ...string) {
	s.t.Helper()
	var counts map[string]int
	ok := assert.Eventually(s.t, func() bool {
		s.eval(&counts, `harness.stored(%s)`, js(append(scope, "/")[0]))
		empty := counts != nil && len(counts) == 4 // fetches, records, bodies, segments
		for _, n := range counts {
			empty = empty && n == 0
		}
		return empty
	}, 10*time.Second, 100*time.Millisecond, "IndexedDB holds nothing of settled fetches")
	if !ok {
		s.t.Logf("stored: %v", counts)
	}
}

// monotonic asserts downloaded never goes down, except for allowedDrops restarts from zero.
func monotonic(t *testing.T, progress []entry, allowedDrops int) {
	t.Helper()
	drops := 0
	for i := 1; i < len(progress); i++ {
		if progress[i].Downloaded < progress[i-1].Downloaded {
			drops++
		}
	}
	assert.LessOrEqual(t, drops, allowedDrops, "downloaded goes down only when a restart from zero happens")
}

// The worker is stopped mid-download (Chromium: DevTools; Firefox: its own idle timeout):
// an open page wakes it, the engine resumes with Range, and at most a segment is fetched twice.
// In Chromium a page also reads the body as it arrives (match() during the fetch), across the stop.
func workerStoppedMidDownload(s *session, stop func()) {
	t := s.t
	const size = 64 << 20
	path := "/files/64m.bin?rate=12582912&t=" + unique() // 12 MiB/s: about 5 s of transfer
	s.eval(nil, `harness.start("stopped", %s)`, js([]string{path}))
	if stop != nil { // (a page's reads are calls to the worker, which would keep Firefox's from its idle stop)
		s.eval(nil, `harness.streamBody("stopped", %s)`, js(path)) // a page reading the body as it arrives
	}
	var at snapshot
	require.Eventually(t, func() bool {
		s.eval(&at, `harness.current("stopped")`)
		return at.Downloaded >= 16<<20
	}, time.Minute, 50*time.Millisecond, "the download gets going")
	if stop != nil {
		stop()
	}

	progress := s.succeeded("stopped", size, s.sha256("/files/64m.bin"))
	if stop != nil {
		var streamed struct {
			Size   int64
			SHA256 string
			Error  string
		}
		s.eval(&streamed, `harness.streamed("stopped")`)
		assert.Empty(t, streamed.Error, "the page's read of the body survives the stop")
		assert.Equal(t, s.sha256("/files/64m.bin"), streamed.SHA256, "the page read every byte once, in order (%d bytes)", streamed.Size)
	}
	monotonic(t, progress, 0)
	after := 0
	for _, p := range progress {
		if p.Downloaded > at.Downloaded && p.Downloaded < size {
			after++
		}
	}
	assert.Greater(t, after, 1, "the page keeps receiving progress after the stop")

	log := s.requests(path)
	require.GreaterOrEqual(t, len(log), 2, "the worker was stopped and resumed: %+v", log)
	assert.Empty(t, log[0].Range)
	stops := int64(0)
	for _, e := range log[1:] { // resumes, and windows if storing falls behind
		assert.Regexp(t, `^bytes=[1-9]\d*-(\d+)?$`, e.Range, "a resume asks for the rest, a window for its bytes")
		assert.NotEmpty(t, e.IfRange, "with the validator")
		assert.Equal(t, 206, e.Status)
		if strings.HasSuffix(e.Range, "-") {
			stops++
		}
	}
	require.Positive(t, stops, "a resume followed the stop")
	waste := refetched(log, size)
	t.Logf("%d stop(s), %d bytes fetched twice", stops, waste)
	assert.LessOrEqual(t, waste, stops*segmentSize, "at most one segment is fetched twice per stop")
}

// A page loaded while nothing is stored leaves a stopped worker stopped: waking it would start the
// engine (the module's compile and Go's start) for nothing. (The test worker has no fetch handler, so
// the navigation itself does not start it.)
func idlePageLoad(s *session, stop func()) {
	t := s.t
	s.eval(nil, `harness.start("idle-load", %s)`, js([]string{"/files/1k.bin?t=" + unique()}))
	s.finished("idle-load", time.Minute)
	s.nothingStored()
	stop()
	s.open()
	time.Sleep(1500 * time.Millisecond) // a wake-up from the page would have started the worker by now
	var at struct{ Worker, Now float64 }
	s.eval(&at, `harness.workerStartedAt()`)
	assert.Greater(t, at.Worker, at.Now-1000, "the worker started when asked, not with the page (%.0f ms before)", at.Now-at.Worker)
}

// A download longer than the browser's 30-second idle timeout runs in one request: the open page's
// pings keep the worker alive. Firefox only: it stops the worker without them (the download then
// never ends), while headless Chromium here kept a worker with a fetch in flight running for minutes.
func keptAlive(s *session) {
	t := s.t
	const size = 64 << 20
	path := "/files/64m.bin?rate=1572864&t=" + unique() // 1.5 MiB/s: about 43 s
	s.eval(nil, `harness.start("alive", %s)`, js([]string{path}))
	s.succeeded("alive", size, s.sha256("/files/64m.bin"))
	log := s.requests(path)
	require.NotEmpty(t, log)
	assert.Empty(t, log[0].Range)
	for _, e := range log[1:] { // windows (bounded ranges) may follow if storing falls behind
		assert.False(t, strings.HasSuffix(e.Range, "-"), "the worker was never stopped: nothing resumed (%s)", e.Range)
	}
}

// The worker stops while the completion event is held open: the next start dispatches it again,
// once, and the data goes once it settles.
func interruptedCompletion(s *session, stop func()) {
	t := s.t
	id := "hold.interrupted-" + unique()
	s.eval(nil, `harness.start(%s, ["/files/1k.bin"])`, js(id))
	holds := func() (n int) { s.eval(&n, `harness.holds(%s)`, js(id)); return n }
	require.Eventually(t, func() bool { return holds() == 1 }, 30*time.Second, 50*time.Millisecond, "the event is dispatched and held")
	if stop != nil {
		stop()
	} else {
		time.Sleep(6 * time.Second) // the browser stops the idle worker, held event and all
	}
	require.Eventually(t, func() bool {
		s.eval(nil, `harness.getIds()`) // any event starts the worker again
		return holds() == 2
	}, time.Minute, time.Second, "the next worker start dispatches the event again")
	s.eval(nil, `harness.release(%s)`, js(id))
	_, worker := s.finished(id, time.Minute)
	assert.Equal(t, "backgroundfetchsuccess", worker.Event)
	require.Len(t, worker.Records, 1)
	assert.Equal(t, s.sha256("/files/1k.bin"), worker.Records[0].SHA256, "records are readable in the redelivered event")
	time.Sleep(3 * time.Second) // long enough for another start to show a duplicate
	var reports []entry
	s.eval(&reports, `harness.reports(%s)`, js(id))
	assert.Len(t, reports, 1, "one completed event")
	if stop != nil {
		assert.Equal(t, 2, holds(), "dispatched once before the stop and once after it")
	} else { // Firefox's own idle timeout may stop the worker again while the re-sent event is held
		assert.Contains(t, []int{2, 3}, holds(), "dispatched once before the stop, and again after each stop, at most twice")
	}
	s.nothingStored()
}

// faultSize is the file the network-fault tests download.
const faultSize = 8 << 20

// paced is the query that paces a body a fault cuts in WebKit, at 16 MiB/s as a network would send
// it: cut at full loopback speed, WebKit fails the body before bgfetch has read any of it (the retry
// asked for no Range), and those bytes are fetched again. The other browsers take the cut unpaced.
func (s *session) paced() string {
	if s.cfg.name == "webkit-polyfill" {
		return "&rate=16777216"
	}
	return ""
}

// throughFault downloads /files/8m.bin with the fault parameters in query, checks that it succeeds
// with the body whose digest is want and that downloaded drops at most drops times, and returns
// the server's log of its requests.
func (s *session) throughFault(id, query, want string, drops int) []server.Entry {
	return s.faultSurvived(id, s.startFault(id, query), want, drops)
}

// startFault starts fetch id of /files/8m.bin with the fault parameters in query and returns the
// path the server logs it under.
func (s *session) startFault(id, query string) (path string) {
	path = "/files/8m.bin?" + query + s.paced() + "&t=" + unique()
	s.eval(nil, `harness.start(%s, %s)`, js(id), js([]string{path}))
	return path
}

// faultSurvived is throughFault's check, for a fetch startFault began.
func (s *session) faultSurvived(id, path, want string, drops int) []server.Entry {
	monotonic(s.t, s.succeeded(id, faultSize, want), drops)
	return s.requests(path)
}

func droppedConnection(s *session) {
	t := s.t
	const cut = 3000000
	log := s.throughFault("dropped", fmt.Sprintf("drop=%d", cut), s.sha256("/files/8m.bin"), 0)
	require.Len(t, log, 2, "one retry")
	assert.EqualValues(t, cut, log[0].Bytes)
	var from int64
	_, err := fmt.Sscanf(log[1].Range, "bytes=%d-", &from)
	require.NoError(t, err, "the retry asks for a range: %q", log[1].Range)
	assert.Greater(t, from, int64(0))
	assert.LessOrEqual(t, from, int64(cut), "from a byte that was received")
	assert.Equal(t, 206, log[1].Status)
	assert.LessOrEqual(t, refetched(log, faultSize), int64(segmentSize))
}

func ignoredRange(s *session) {
	t := s.t
	log := s.throughFault("ignored", "drop=3000000&ignore-range=1", s.sha256("/files/8m.bin"), 1)
	require.Len(t, log, 2)
	assert.NotEmpty(t, log[1].Range, "the retry asked for the rest")
	assert.Equal(t, 200, log[1].Status, "and got the whole body")
	assert.EqualValues(t, faultSize, log[1].Bytes, "which was stored from zero")
}

func changedETag(s *session) {
	t := s.t
	newVersion := s.sha256("/files/8m.bin?v=2")
	require.NotEqual(t, s.sha256("/files/8m.bin"), newVersion)
	log := s.throughFault("changed", "drop=3000000&change=2", newVersion, 1)
	require.Len(t, log, 2)
	assert.Equal(t, server.FileContent("/files/8m.bin", "", faultSize).ETag(), log[1].IfRange, "the resume named the old version")
	assert.Equal(t, 200, log[1].Status, "the server sent the new version whole")
}

// A server that serves a new version under the old ETag (and Last-Modified) answers the resume with
// a 206 of it: the stored bytes the resume asks for again do not match, and the record fetches the
// new version whole rather than splice it onto the old one.
func changedUnderTheSameETag(s *session) {
	t := s.t
	log := s.throughFault("stale", "drop=3000000&change=2&stale", s.sha256("/files/8m.bin?v=2"), 1)
	require.Len(t, log, 3)
	assert.Regexp(t, `^bytes=[1-9]\d*-$`, log[1].Range, "the resume")
	assert.Equal(t, 206, log[1].Status, "got a slice of the new version, under the old ETag")
	assert.Empty(t, log[2].Range, "then the whole body")
	assert.Equal(t, 200, log[2].Status)
}

func stalledConnection(s *session) {
	t := s.t
	const cut = 3000000
	path := s.startFault("stalled", fmt.Sprintf("stall=%d", cut))
	require.Eventually(t, func() bool {
		log := s.requests(path)
		return len(log) == 1 && log[0].Bytes == cut
	}, 30*time.Second, 20*time.Millisecond, "the server stops sending")
	// The bytes that came before the stall are stored while it lasts, long before its timeout.
	assert.Eventually(t, func() bool {
		var cur snapshot
		s.eval(&cur, `harness.current('stalled')`)
		return cur.Downloaded == cut
	}, 2*time.Second, 50*time.Millisecond, "progress counts every byte that came before the stall")
	assert.Len(t, s.requests(path), 1, "during the stall")
	log := s.faultSurvived("stalled", path, s.sha256("/files/8m.bin"), 0)
	require.Len(t, log, 2, "one retry")
	assert.Equal(t, fmt.Sprintf("bytes=%d-", cut-resumeOverlap), log[1].Range,
		"the retry resumes at the byte where the stall began, asking again for the stored bytes before it")
	assert.GreaterOrEqual(t, log[1].Start.Sub(log[0].Start), 3*time.Second, "after the stall timeout (3 s in the test worker)")
}

// A write refused for quota fails the fetch with quota-exceeded and leaves nothing stored.
func quotaExceeded(s *session) {
	t := s.t
	c := s.b.(*browser.Chromium)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var usage float64
	s.eval(&usage, `navigator.storage.estimate().then((e) => e.usage)`)
	require.NoError(t, c.OverrideQuota(ctx, s.origin, usage+6<<20))
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, c.OverrideQuota(ctx, s.origin, -1))
	}()
	path := "/files/32m.bin?t=" + unique()
	s.eval(nil, `harness.start("quota", %s)`, js([]string{path}))
	progress, worker := s.finished("quota", 2*time.Minute)
	require.NotEmpty(t, progress)
	final := progress[len(progress)-1]
	assert.Equal(t, "failure", final.Result)
	assert.Equal(t, "quota-exceeded", final.FailureReason)
	assert.Greater(t, final.Downloaded, uint64(0), "what fit was stored before the refusal")
	assert.Less(t, final.Downloaded, uint64(32<<20))
	assert.Equal(t, "backgroundfetchfail", worker.Event)
	assert.Equal(t, "quota-exceeded", worker.FailureReason)
	s.nothingStored()
}

// Twenty fetches of five files each, started at once: every record belongs to its fetch and is
// byte-exact, and the requests run side by side. (The engine's bound on requests in flight, far
// above these 100, is checked by the core's tests.)
func manyConcurrentFetches(s *session) {
	t := s.t
	const fetches, files = 20, 5
	run := unique()
	// Odd files come from a second host name, so two hosts' six connections each carry them;
	// 2 MiB/s makes the requests overlap.
	other := strings.Replace(s.origin, "127.0.0.1", "localhost", 1)
	want := map[string][]string{}
	for f := 0; f < fetches; f++ {
		id := fmt.Sprintf("many-%02d", f)
		for k := 0; k < files; k++ {
			host := s.origin
			if k%2 == 1 {
				host = other
			}
			want[id] = append(want[id], fmt.Sprintf("%s/files/%dk.bin?rate=2097152&v=%d-%d-%s", host, 64<<k, f, k, run))
		}
	}
	s.eval(nil, `Promise.all(Object.entries(%s).map(([id, paths]) => harness.start(id, paths)))`, js(want))
	for id, paths := range want {
		progress, worker := s.finished(id, 3*time.Minute)
		require.NotEmpty(t, progress, id)
		var total uint64
		for k := range paths {
			total += 64 << 10 << k
		}
		assert.EqualValues(t, total, progress[len(progress)-1].Downloaded, id)
		assert.Equal(t, "backgroundfetchsuccess", worker.Event, id)
		require.Len(t, worker.Records, files, id)
		got := map[string]string{}
		for _, r := range worker.Records {
			got[r.URL] = r.SHA256
		}
		for _, u := range paths {
			sum, ok := got[u]
			if assert.True(t, ok, "%s has a record for %s, got %v", id, u, got) {
				path := u[strings.Index(u, "/files/"):]
				assert.Equal(t, s.sha256(path), sum, "%s: %s", id, u)
			}
		}
	}
	var spans []server.Entry
	for _, e := range s.files.Log() {
		if strings.HasSuffix(e.RawQuery, "-"+run) {
			spans = append(spans, e)
		}
	}
	assert.Len(t, spans, fetches*files, "one request per file")
	peak := peakInFlight(spans)
	t.Logf("%d requests, at most %d in flight", len(spans), peak)
	assert.GreaterOrEqual(t, peak, 3, "requests run side by side")
	s.nothingStored()
}

// peakInFlight is the most requests the server was answering at one time.
func peakInFlight(entries []server.Entry) int {
	peak := 0
	for _, a := range entries {
		n := 0
		for _, b := range entries {
			if !b.Start.After(a.Start) && (b.End.IsZero() || b.End.After(a.Start)) {
				n++
			}
		}
		peak = max(peak, n)
	}
	return peak
}

// Two registrations with different scopes on one origin never see each other's fetches.
func scopesAreIsolated(s *session) {
	t := s.t
	const other = "/isolated/"
	slow := "/files/4m.bin?rate=4194304&t=" + unique()
	s.eval(nil, `harness.start("here", %s)`, js([]string{slow}))
	s.eval(nil, `harness.start("there", ["/files/2m.bin"], {}, %s)`, js(other))
	var ids, otherIDs []string
	s.eval(&ids, `harness.getIds()`)
	s.eval(&otherIDs, `harness.getIds(%s)`, js(other))
	assert.NotContains(t, ids, "there")
	assert.NotContains(t, otherIDs, "here")
	var got any
	s.eval(&got, `harness.get("here", %s)`, js(other))
	assert.Equal(t, "undefined", got, "the other scope cannot get this scope's fetch")
	// One id may be in use in both scopes at once.
	s.eval(nil, `harness.start("same", ["/files/1k.bin"], {}, %s)`, js(other))
	s.eval(nil, `harness.start("same", %s)`, js([]string{slow + "&same"}))

	for _, c := range []struct {
		id, scope, path string
	}{{"here", "/", "/files/4m.bin"}, {"there", other, "/files/2m.bin"}} {
		_, worker := s.finished(c.id, 2*time.Minute)
		assert.Equal(t, s.origin+c.scope, worker.Scope, "%s completes in its own scope's worker", c.id)
		require.Len(t, worker.Records, 1)
		assert.Equal(t, s.sha256(c.path), worker.Records[0].SHA256)
	}
	require.Eventually(t, func() bool {
		var reports []entry
		s.eval(&reports, `harness.reports("same")`)
		return len(reports) == 2
	}, 2*time.Minute, 100*time.Millisecond, "both fetches named same complete")
	var reports []entry
	s.eval(&reports, `harness.reports("same")`)
	byScope := map[string]string{}
	for _, r := range reports {
		require.Len(t, r.Records, 1)
		byScope[r.Scope] = strings.TrimPrefix(r.Records[0].URL, s.origin)
	}
	assert.Equal(t, map[string]string{s.origin + "/": slow + "&same", s.origin + other: "/files/1k.bin"}, byScope,
		"each scope's worker sees its own fetch")
	s.nothingStored()
	s.nothingStored(other) // a database of its own, emptied as well
}

// Chromium is SIGKILLed mid-download and started again on the same profile: the fetch is found,
// with its progress, and completes.
func browserKilledAndRestarted(t *testing.T) {
	dir := t.TempDir()
	cfg := config{name: "chromium-polyfill", launch: func(ctx context.Context) (browser.Browser, error) {
		return browser.LaunchChromium(ctx, browser.ChromiumOptions{UserDataDir: dir})
	}}
	s := newSession(t, cfg)
	const size = 64 << 20
	path := "/files/64m.bin?rate=8388608&t=" + unique()
	s.eval(nil, `harness.start("survivor", %s)`, js([]string{path}))
	var at snapshot
	require.Eventually(t, func() bool {
		s.eval(&at, `harness.current("survivor")`)
		return at.Downloaded >= 12<<20
	}, time.Minute, 50*time.Millisecond)
	require.NoError(t, s.b.(*browser.Chromium).Kill())

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := cfg.launch(ctx)
	require.NoError(t, err, "restarting chromium on the same profile")
	t.Cleanup(func() { _ = b.Close() })
	s.b = b
	s.open()
	var again snapshot
	s.eval(&again, `harness.get("survivor")`)
	assert.Equal(t, "survivor", again.ID, "get(id) in a new page after the restart finds the fetch")
	assert.Greater(t, again.Downloaded, uint64(0), "with its progress")

	s.succeeded("survivor", size, s.sha256("/files/64m.bin"))
	assert.NotEmpty(t, resumes(s.requests(path)), "the download resumed with Range")
}

// A cross-origin server that refuses preflights (allowing simple CORS requests only, as some CDNs
// do) fails every resume, whose Range and If-Range headers need one: the download still completes,
// its last try asking for the whole body.
func refusedPreflight(s *session) {
	t := s.t
	const id = "no-preflight"
	path := "/files/8m.bin?drop=3000000&nopreflight" + s.paced() + "&t=" + unique()
	cross := strings.Replace(s.origin, "127.0.0.1", "localhost", 1) + path
	require.NotEqual(t, s.origin+path, cross, "another origin")
	s.eval(nil, `harness.start(%s, %s)`, js(id), js([]string{cross}))
	monotonic(t, s.succeeded(id, faultSize, s.sha256("/files/8m.bin")), 1)
	var gets []server.Entry
	preflights := 0
	for _, e := range s.requests(path) {
		switch e.Method {
		case "GET":
			gets = append(gets, e)
		case "OPTIONS":
			assert.Equal(t, 403, e.Status)
			preflights++
		}
	}
	assert.Positive(t, preflights, "the resumes asked for a preflight")
	require.Len(t, gets, 2, "the dropped request, then the whole body")
	assert.Empty(t, gets[1].Range)
	assert.Equal(t, 200, gets[1].Status)
	assert.EqualValues(t, faultSize, gets[1].Bytes)
}

// A cross-origin file stored encoded (Content-Encoding: gzip, which CORS hides from the page), its
// connection dropped: the resume's Range counts decoded bytes, the server slices the encoding, and
// Chromium cannot decode the slice, and WebKit passes it on undecoded, which the stored bytes the
// resume asks for again tell apart. Either way the record falls back to the whole body and
// completes intact (it used to fail with fetch-error in Chromium, and succeed with the slice spliced
// in in WebKit).
func encodedCrossOrigin(s *session) {
	t := s.t
	const id = "encoded"
	path := "/files/8m.bin?gzip&drop=3000000" + s.paced() + "&t=" + unique()
	cross := strings.Replace(s.origin, "127.0.0.1", "localhost", 1) + path
	s.eval(nil, `harness.start(%s, %s)`, js(id), js([]string{cross}))
	s.succeeded(id, faultSize, s.sha256("/files/8m.bin"))
	var gets []server.Entry
	for _, e := range s.requests(path) {
		if e.Method == "GET" {
			gets = append(gets, e)
		}
	}
	require.GreaterOrEqual(t, len(gets), 3, "the dropped request, a resume, then the whole body")
	assert.NotEmpty(t, gets[1].Range, "the first retry resumes")
	last := gets[len(gets)-1]
	assert.Empty(t, last.Range)
	assert.Equal(t, 200, last.Status)
}

// A record taken with matchAll() early in the download, whose body then restarts from zero with a
// changed resource (a drop, and the server's new version), reads the new body when it is read
// later, while its fetch still runs: not the old view's head and bytes.
func takenBeforeRestart(s *session) {
	t := s.t
	const id = "taken-before-restart"
	first := "/files/8m.bin?drop=3000000&change=2&rate=4194304&t=" + unique()
	slow := "/files/512k.bin?rate=65536&t=" + unique() // keeps the fetch running for 8 s
	s.eval(nil, `harness.start(%s, %s)`, js(id), js([]string{first, slow}))
	s.waitDownloading(id)
	s.eval(nil, `harness.matchNow(%s)`, js(id))
	require.Eventually(t, func() bool {
		for _, e := range s.requests(first) {
			if e.Status == 200 && e.Bytes == faultSize && !e.End.IsZero() {
				return true // the new version was served whole
			}
		}
		return false
	}, time.Minute, 100*time.Millisecond)
	var cur snapshot
	s.eval(&cur, `harness.current(%s)`, js(id))
	require.Empty(t, cur.Result, "the fetch still runs")
	var raw json.RawMessage
	s.eval(&raw, `harness.readTaken(%s).then((r) => (Array.isArray(r) ? r.slice(0, 1) : r))`, js("now:"+id))
	var read []struct {
		URL, SHA256 string
		Size        int64
	}
	require.NoError(t, json.Unmarshal(raw, &read), "the read: %s", raw)
	require.Len(t, read, 1)
	assert.EqualValues(t, faultSize, read[0].Size)
	assert.Equal(t, s.sha256("/files/8m.bin?v=2"), read[0].SHA256, "the new version's body")
	_, worker := s.finished(id, time.Minute)
	assert.Equal(t, "backgroundfetchsuccess", worker.Event)
}
