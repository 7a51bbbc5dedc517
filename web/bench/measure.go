package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bgfetch/bgfetch/web/e2e/browser"
	"github.com/bgfetch/bgfetch/web/server"
)

const mib = 1 << 20

// fetchResult is what bench.fetch, bench.finish and bench.watched return.
type fetchResult struct {
	MS       float64      `json:"ms"`
	Bytes    int64        `json:"bytes"`
	Event    string       `json:"event"`
	Progress [][2]float64 `json:"progress"` // [ms since start, downloaded]
	Start    float64      `json:"start"`    // Date.now() at fetch()
	Stored   [][2]float64 `json:"stored"`   // bench.watched only: [Date.now() of a commit, bytes stored]
}

// startup is what bench.startup returns: ms from the worker script's first line.
type startup struct {
	Imported, Ready float64
	Worker          float64 // the worker's performance.timeOrigin: changes when it restarts
}

type timed struct {
	MS    float64 `json:"ms"`
	Bytes int64   `json:"bytes"`
}

// measure runs every measurement that applies to one configuration.
func measure(c benchConfig, runs int, sz sizes, origin string, files *server.Server) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	b, err := c.launch(ctx)
	cancel()
	if err != nil {
		return nil, err
	}
	defer b.Close()
	p := &page{b: b, url: origin + "/"}
	if c.native {
		p.url += "?native=1"
	}
	if err := p.open(); err != nil {
		return nil, err
	}
	figs := map[string]float64{}
	n := 0
	file := func(size int64) string {
		n++
		return fmt.Sprintf("/files/%d.bin?v=%s-%d-%d", size, c.name, time.Now().UnixNano(), n)
	}

	if !c.native && selected("startup") { // start-up: the first evaluation compiled the module from the network
		var cold, again startup
		if err := p.eval(&cold, `bench.startup()`); err != nil {
			return nil, err
		}
		colds := []float64{cold.Ready}
		for r := 1; r < runs; r++ { // each further first start needs a fresh browser: nothing cached
			ms, err := coldStart(c, p.url)
			if err != nil {
				return nil, err
			}
			colds = append(colds, ms)
		}
		figs["startup_cold_ms"] = median(colds)
		if ch, ok := b.(*browser.Chromium); ok {
			var restarts []float64
			for r := 0; r < runs; r++ {
				prev := cold.Worker
				if r > 0 {
					prev = again.Worker
				}
				if err := stopWorkers(ch); err != nil {
					return nil, err
				}
				if err := p.eval(&again, `bench.startup()`); err != nil {
					return nil, err
				}
				if again.Worker == prev {
					return nil, errors.New("startup: the worker was not restarted")
				}
				restarts = append(restarts, again.Ready)
			}
			figs["startup_restart_ms"] = median(restarts)
		} else if c.idle != nil {
			ms, err := idleRestart(c, p.url)
			if err != nil {
				return nil, err
			}
			figs["startup_restart_ms"] = ms
		}
		var pg struct {
			Script, Load, FirstCall float64
			Usable                  bool
		}
		if err := p.open(); err != nil { // a fresh page: the script runs with the worker already up
			return nil, err
		}
		if err := p.eval(&pg, `bench.page()`); err != nil {
			return nil, err
		}
		if !pg.Usable {
			return nil, errors.New("registration.backgroundFetch is not usable in the page")
		}
		figs["page_script_ms"], figs["page_load_ms"], figs["page_first_call_ms"] = pg.Script, pg.Load, pg.FirstCall
	}

	var speeds, base, rates, peaks []float64
	for r := 0; r < runs && selected("throughput"); r++ { // bgfetch and the baseline alternate, so drifts of the machine hit both
		var fr fetchResult
		if err := p.eval(&fr, `bench.fetch([%s])`, js(file(sz.Throughput))); err != nil {
			return nil, err
		}
		if fr.Event != "backgroundfetchsuccess" || fr.Bytes != sz.Throughput {
			return nil, fmt.Errorf("throughput run: %s with %d bytes", fr.Event, fr.Bytes)
		}
		speeds = append(speeds, float64(fr.Bytes)/mib/(fr.MS/1000))
		rate, peak := progressRates(fr.Progress)
		rates, peaks = append(rates, rate), append(peaks, peak)
		if c.native {
			continue
		}
		var t timed
		if err := p.eval(&t, `bench.baseline([%s])`, js(file(sz.Throughput))); err != nil {
			return nil, err
		}
		base = append(base, float64(t.Bytes)/mib/(t.MS/1000))
	}
	if selected("throughput") {
		figs["throughput_mibs"] = median(speeds)
		figs["progress_per_s"], figs["progress_peak_per_s"] = median(rates), maxOf(peaks)
		if !c.native {
			figs["baseline_mibs"] = median(base)
		}
	}
	if c.native {
		return figs, nil
	}

	var delays, worst []float64
	for r := 0; r < runs && selected("delay"); r++ {
		var fr fetchResult
		if err := p.eval(&fr, `bench.watched([%s])`, js(file(sz.Small))); err != nil {
			return nil, err
		}
		d := progressDelays(fr)
		if fr.Event != "backgroundfetchsuccess" || len(d) == 0 {
			return nil, fmt.Errorf("progress delay run: %s, %d progress events, %d stored totals seen", fr.Event, len(fr.Progress), len(fr.Stored))
		}
		delays, worst = append(delays, median(d)), append(worst, maxOf(d))
	}
	if selected("delay") {
		figs["progress_delay_ms"], figs["progress_delay_max_ms"] = median(delays), maxOf(worst)
	}

	for _, m := range []struct {
		name string
		size int64
	}{{"big", sz.Big}, {"small", sz.Small}} {
		if !selected("memory") {
			break
		}
		var peak struct {
			Wasm float64
			Heap *float64 // nil where the worker's JS heap is not measurable
		}
		if ch, ok := b.(*browser.Chromium); ok { // a fresh worker: no JS heap left over from earlier downloads
			if err := stopWorkers(ch); err != nil {
				return nil, err
			}
		}
		if err := p.eval(nil, `bench.memoryStart()`); err != nil {
			return nil, err
		}
		browserPeak := sampleMemory(b)
		var fr fetchResult
		err := p.eval(&fr, `bench.fetch([%s])`, js(file(m.size)))
		figs["browser_"+m.name+"_mib"] = float64(browserPeak()) / mib
		if err != nil {
			return nil, err
		}
		if err := p.eval(&peak, `bench.memoryStop()`); err != nil {
			return nil, err
		}
		figs["memory_"+m.name+"_mib"] = peak.Wasm / mib
		if peak.Heap != nil {
			figs["heap_"+m.name+"_mib"] = *peak.Heap / mib
		}
	}

	var fan, fanBase, fanStarted, fanStored, fanCPU, fanBaseCPU []float64
	const settle = time.Second // idle browsers use a few ms of CPU a second
	for r := 0; r < runs && selected("fanout"); r++ {
		lists := make([][]string, sz.FanFetches)
		var all []string
		for i := range lists {
			for j := 0; j < sz.FanFiles; j++ {
				lists[i] = append(lists[i], file(64<<10))
				all = append(all, file(64<<10))
			}
		}
		var fo struct {
			MS, Started, Stored float64
			Failed              int
		}
		cpu, threads := b.CPU(), b.Threads()
		if err := p.eval(&fo, `bench.fanout(%s, %d)`, js(lists), 64<<10); err != nil {
			return nil, err
		}
		time.Sleep(settle) // the engine's deletes after the events count as its work
		fanCPU = append(fanCPU, ms(b.CPU()-cpu))
		if showThreads {
			printThreads(os.Stderr, c.name+" fan-out, bgfetch", threads, b.Threads())
		}
		if fo.Failed > 0 {
			return nil, fmt.Errorf("fan-out: %d fetches failed", fo.Failed)
		}
		var base timed
		cpu, threads = b.CPU(), b.Threads()
		if err := p.eval(&base, `bench.baseline(%s)`, js(all)); err != nil {
			return nil, err
		}
		time.Sleep(settle)
		fanBaseCPU = append(fanBaseCPU, ms(b.CPU()-cpu))
		if showThreads {
			printThreads(os.Stderr, c.name+" fan-out, baseline", threads, b.Threads())
		}
		fan, fanBase = append(fan, fo.MS), append(fanBase, base.MS)
		fanStarted, fanStored = append(fanStarted, fo.Started), append(fanStored, fo.Stored)
	}
	if selected("fanout") {
		figs["fanout_ms"], figs["fanout_baseline_ms"] = median(fan), median(fanBase)
		figs["fanout_started_ms"], figs["fanout_stored_ms"] = median(fanStarted), median(fanStored)
		figs["fanout_cpu_ms"], figs["fanout_baseline_cpu_ms"] = median(fanCPU), median(fanBaseCPU)
	}

	ch, isChromium := b.(*browser.Chromium)
	if !c.native && selected("resume") && (isChromium || c.idle != nil) {
		rp, stop, misses := p, func() error { return nil }, 0
		if isChromium {
			stop = func() error { return stopWorkers(ch) }
		} else { // Firefox has no call that stops a worker: a browser whose idle timeouts stop it
			ip, _, err := firstStart(c.idle, p.url)
			if err != nil {
				return nil, err
			}
			defer ip.b.Close()
			rp = ip
		}
		var wastes []float64
		for len(wastes) < resumeRuns(runs) {
			waste, err := resumeWaste(rp, stop, files, sz.Resume)
			if errors.Is(err, errNoStop) && !isChromium && misses < 3 { // the idle timeout fell after the end
				misses++
				continue
			}
			if err != nil {
				return nil, err
			}
			wastes = append(wastes, waste/mib)
		}
		figs["resume_waste_mib"], figs["resume_waste_max_mib"] = median(wastes), slices.Max(wastes)
	}
	return figs, nil
}

var errNoStop = errors.New("resume: the stop did not interrupt the download")

// firstStart launches a browser, opens the bench page and waits for the engine's first start; the
// caller closes the page's browser.
func firstStart(launch func(context.Context) (browser.Browser, error), url string) (*page, startup, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	b, err := launch(ctx)
	cancel()
	if err != nil {
		return nil, startup{}, err
	}
	p := &page{b: b, url: url}
	var first startup
	if err := p.open(); err != nil {
		b.Close()
		return nil, startup{}, err
	}
	if err := p.eval(&first, `bench.startup()`); err != nil {
		b.Close()
		return nil, startup{}, err
	}
	return p, first, nil
}

// coldStart is the engine's first start in a fresh browser, whose profile has no cached module.
func coldStart(c benchConfig, url string) (float64, error) {
	p, first, err := firstStart(c.launch, url)
	if err != nil {
		return 0, err
	}
	defer p.b.Close()
	return first.Ready, nil
}

// idleRestart measures a worker start with the module in the browser's caches, in a browser of its
// own that stops idle workers (Firefox has no DevTools call to stop them).
func idleRestart(c benchConfig, url string) (float64, error) {
	p, first, err := firstStart(c.idle, url)
	if err != nil {
		return 0, err
	}
	defer p.b.Close()
	var again startup
	for deadline := time.Now().Add(30 * time.Second); ; {
		time.Sleep(4 * time.Second) // past the idle timeouts (1 s + 2 s extended)
		if err := p.eval(&again, `bench.startup()`); err != nil {
			return 0, err
		}
		if again.Worker != first.Worker {
			return again.Ready, nil
		}
		if time.Now().After(deadline) {
			return 0, errors.New("startup: the idle worker was not stopped")
		}
	}
}

// resumeRuns is how many stops the resume figure takes: where in a segment's life the stop lands
// is chance, so it gets more runs than the other figures.
func resumeRuns(runs int) int {
	if runs > 1 {
		return 2*runs + 1
	}
	return runs
}

// resumeWaste stops the worker in the middle of a throttled download and returns how many bytes
// the server sent beyond one copy of the file, per stop (Firefox's idle timeouts may stop it more
// than once).
func resumeWaste(p *page, stop func() error, files *server.Server, size int64) (float64, error) {
	rate := max(size/4, 4*mib) // about four seconds of transfer
	path := fmt.Sprintf("/files/%d.bin", size)
	query := fmt.Sprintf("rate=%d&t=%d", rate, time.Now().UnixNano())
	var id string
	if err := p.eval(&id, `bench.start([%s])`, js(path+"?"+query)); err != nil {
		return 0, err
	}
	for deadline := time.Now().Add(time.Minute); ; {
		var got float64
		if err := p.eval(&got, `bench.current(%s)`, js(id)); err != nil {
			return 0, err
		}
		if got >= float64(size)*0.4 {
			break
		}
		if time.Now().After(deadline) {
			return 0, errors.New("resume: the download did not get going")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := stop(); err != nil {
		return 0, err
	}
	var fr fetchResult
	if err := p.eval(&fr, `bench.finish(%s)`, js(id)); err != nil {
		return 0, err
	}
	if fr.Event != "backgroundfetchsuccess" {
		return 0, fmt.Errorf("resume: %s", fr.Event)
	}
	var sent, stops int64
	var entries []server.Entry
	for _, e := range files.Log() {
		if e.Path == path && e.RawQuery == query {
			sent += e.Bytes
			entries = append(entries, e)
			// A stop's resume asks for the rest; a window of a body stored behind the network
			// (core.Config.Window) asks for a bounded range.
			if strings.HasPrefix(e.Range, "bytes=") && strings.HasSuffix(e.Range, "-") {
				stops++
			}
		}
	}
	if stops == 0 {
		return 0, errNoStop
	}
	waste := float64(sent-size) / float64(stops)
	if waste > 8*mib { // beyond two segments: the wire, for whoever reads the figure
		for _, e := range entries {
			fmt.Fprintf(os.Stderr, "bench: resume waste %.1f MiB: %s %q → %d, %d bytes, %s–%s\n", waste/mib, e.Method,
				e.Range, e.Status, e.Bytes, e.Start.Format("15:04:05.000"), e.End.Format("15:04:05.000"))
		}
	}
	return waste, nil
}

// sampleMemory watches the browser's resident memory (all its processes) every 50 ms until the
// returned function is called, which returns its peak: a body the browser takes in faster than the
// worker reads it is held there (Firefox), not in the worker's JS heap. (A rise from the start would
// hide it behind memory an earlier download left to be freed.)
func sampleMemory(b browser.Browser) func() int64 {
	peak := int64(0)
	done, over := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(over)
		for t := time.NewTicker(50 * time.Millisecond); ; {
			peak = max(peak, b.Memory())
			select {
			case <-done:
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-over
		return peak
	}
}

func stopWorkers(ch *browser.Chromium) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return ch.StopAllWorkers(ctx)
}

// progressRates returns the progress events per second while bytes flowed, and the most in any second.
func progressRates(events [][2]float64) (rate, peak float64) {
	if len(events) < 2 {
		return 0, float64(len(events))
	}
	span := (events[len(events)-1][0] - events[0][0]) / 1000
	if span > 0 {
		rate = float64(len(events)-1) / span
	}
	for i := range events {
		n := 0
		for j := i; j < len(events) && events[j][0]-events[i][0] < 1000; j++ {
			n++
		}
		peak = max(peak, float64(n))
	}
	return rate, peak
}

// progressDelays returns, for each commit of a watched fetch's segments, the ms until the page
// had a progress event counting those bytes: what a byte waits, coalesced events included.
func progressDelays(fr fetchResult) []float64 {
	var out []float64
	for _, st := range fr.Stored {
		for _, ev := range fr.Progress {
			if ev[1] >= st[1] {
				out = append(out, fr.Start+ev[0]-st[0])
				break
			}
		}
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func maxOf(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
