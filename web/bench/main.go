// Command bench measures bgfetch in headless browsers against a plain-JavaScript baseline in the
// same service worker and against native Chromium, and prints each figure beside its target.
//
//	go run ./web/bench [-runs 3] [-quick] [-out bench/results.json]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bgfetch/bgfetch/web/e2e/browser"
	"github.com/bgfetch/bgfetch/web/server"
)

// sizes are the downloads of one run; -quick shrinks them to a smoke test of a few seconds.
type sizes struct {
	Throughput, Big, Small int64 // bytes: the throughput file, the large and small memory files
	FanFetches, FanFiles   int
	Resume                 int64
}

var full = sizes{Throughput: 256 << 20, Big: 1 << 30, Small: 64 << 20, FanFetches: 100, FanFiles: 10, Resume: 256 << 20}
var quick = sizes{Throughput: 8 << 20, Big: 16 << 20, Small: 4 << 20, FanFetches: 5, FanFiles: 2, Resume: 16 << 20}

func main() {
	runs := flag.Int("runs", 3, "runs of each timed measurement; the median is reported")
	smoke := flag.Bool("quick", false, "tiny sizes, one run, Chromium only: checks that the benchmark works")
	out := flag.String("out", "bench/results.json", "where to write the figures as JSON")
	dist := flag.String("dist", "dist", "the built dist/ folder")
	site := flag.String("site", "testdata/bench", "the benchmark pages and worker")
	only := flag.String("only", "", "comma-separated measurements to run (startup,throughput,delay,memory,fanout,resume); all when empty")
	in := flag.String("browsers", "", "comma-separated configurations (chromium,firefox,chromium-native); all when empty")
	flag.BoolVar(&showThreads, "threads", false, "print the browser's CPU time by thread for each fan-out (bgfetch and baseline)")
	flag.Parse()
	sz, configs := full, allConfigs
	if *smoke {
		sz, configs, *runs = quick, allConfigs[:1], 1
	}
	configs = slices.DeleteFunc(slices.Clone(configs), func(c benchConfig) bool { return !listed(*in, c.name) })
	selected = func(m string) bool { return listed(*only, m) }
	if err := run(*runs, sz, configs, *dist, *site, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// selected reports whether a measurement was asked for (-only).
var selected = func(string) bool { return true }

func listed(list, name string) bool {
	return list == "" || slices.Contains(strings.Split(list, ","), name)
}

func run(runs int, sz sizes, configs []benchConfig, dist, site, out string) error {
	files := server.New(server.Options{Static: []server.Mount{
		{Prefix: "/dist/", Dir: dist},
		{Prefix: "/", Dir: site},
	}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: isolateWorker(files)}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	origin := "http://" + ln.Addr().String()

	res := results{Sizes: sizeFigures(dist), Browsers: map[string]map[string]float64{}}
	for _, c := range configs {
		fmt.Fprintf(os.Stderr, "bench: %s …\n", c.name)
		figs, err := measure(c, runs, sz, origin, files)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		res.Browsers[c.name] = figs
	}
	res.Runs, res.Quick = runs, sz == quick
	printTable(os.Stdout, &res, sz)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	return os.WriteFile(out, append(b, '\n'), 0o644)
}

// isolateWorker serves sw.js with COEP: a cross-origin isolated worker may measure its JS heap.
func isolateWorker(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/sw.js" {
			w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
		}
		h.ServeHTTP(w, r)
	})
}

// results is what the benchmark writes as JSON.
type results struct {
	Runs     int                           `json:"runs"`
	Quick    bool                          `json:"quick"`
	Sizes    map[string]float64            `json:"sizes"`
	Browsers map[string]map[string]float64 `json:"browsers"` // config → figure name → value
}

type benchConfig struct {
	name   string
	native bool
	launch func(ctx context.Context) (browser.Browser, error)
	idle   func(ctx context.Context) (browser.Browser, error) // a launch that stops idle workers in seconds
}

var allConfigs = []benchConfig{
	{name: "chromium", launch: func(ctx context.Context) (browser.Browser, error) {
		return browser.LaunchChromium(ctx, browser.ChromiumOptions{})
	}},
	{name: "firefox", launch: func(ctx context.Context) (browser.Browser, error) {
		return browser.LaunchFirefox(ctx, browser.FirefoxOptions{})
	}, idle: func(ctx context.Context) (browser.Browser, error) {
		return browser.LaunchFirefox(ctx, browser.FirefoxOptions{Prefs: map[string]any{
			"dom.serviceWorkers.idle_timeout":          1000,
			"dom.serviceWorkers.idle_extended_timeout": 2000,
		}})
	}},
	{name: "chromium-native", native: true, launch: func(ctx context.Context) (browser.Browser, error) {
		return browser.LaunchChromium(ctx, browser.ChromiumOptions{Native: true})
	}},
}

// page is one browser on the benchmark page.
type page struct {
	b   browser.Browser
	url string
}

func (p *page) eval(out any, format string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	return p.b.Eval(ctx, fmt.Sprintf(format, args...), out)
}

func (p *page) open() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.b.Navigate(ctx, p.url); err != nil {
		return err
	}
	return p.eval(nil, `bench.setup().then(() => true)`)
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
