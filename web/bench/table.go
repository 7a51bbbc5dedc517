package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/andybalholm/brotli"
)

// sizeFigures measures the shipped files: raw, gzip -9 and brotli 11.
func sizeFigures(dist string) map[string]float64 {
	out := map[string]float64{}
	for _, name := range []string{"bgfetch.wasm", "bgfetch.js"} {
		b, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			continue
		}
		var gz, br bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
		_, _ = bw.Write(b)
		_ = bw.Close()
		key := strings.TrimPrefix(filepath.Ext(name), ".")
		out[key+"_raw"], out[key+"_gzip"], out[key+"_brotli"] = float64(len(b)), float64(gz.Len()), float64(br.Len())
	}
	return out
}

// row is one line of the table: a figure per browser and the target it is held to.
type row struct {
	label  string
	value  func(figs map[string]float64) (float64, bool)
	format string
	target string
	meets  func(v float64) bool
}

func fig(name string) func(map[string]float64) (float64, bool) {
	return func(f map[string]float64) (float64, bool) { v, ok := f[name]; return v, ok }
}

func ratio(num, den string) func(map[string]float64) (float64, bool) {
	return func(f map[string]float64) (float64, bool) {
		a, ok1 := f[num]
		b, ok2 := f[den]
		return a / b, ok1 && ok2 && b > 0
	}
}

func printTable(w io.Writer, res *results, sz sizes) {
	native := res.Browsers["chromium-native"]
	vsNative := func(f map[string]float64) (float64, bool) {
		v, ok := f["throughput_mibs"]
		n, ok2 := native["throughput_mibs"]
		return v / n, ok && ok2 && n > 0 && f["baseline_mibs"] > 0
	}
	spread := func(big, small string) func(map[string]float64) (float64, bool) {
		return func(f map[string]float64) (float64, bool) {
			a, ok1 := f[big]
			b, ok2 := f[small]
			return a - b, ok1 && ok2
		}
	}
	flat := func(v float64) bool { return v <= 4 && v >= -4 }
	fanout := func(f map[string]float64) (float64, bool) {
		a, ok1 := f["fanout_baseline_ms"]
		b, ok2 := f["fanout_ms"]
		return a / b, ok1 && ok2 && b > 0
	}
	rows := []row{
		{fmt.Sprintf("throughput, %d MiB (MiB/s)", sz.Throughput/mib), fig("throughput_mibs"), "%.0f", "", nil},
		{"  plain-JS baseline (MiB/s)", fig("baseline_mibs"), "%.0f", "", nil},
		{"  bgfetch / baseline", ratio("throughput_mibs", "baseline_mibs"), "%.2f", "≥ 0.90", func(v float64) bool { return v >= 0.9 }},
		{"  bgfetch / native Chromium", vsNative, "%.2f", "≥ 1.00", func(v float64) bool { return v >= 1 }},
		{fmt.Sprintf("peak wasm memory, %d MiB download (MiB)", sz.Big/mib), fig("memory_big_mib"), "%.1f", "≤ 32", func(v float64) bool { return v <= 32 }},
		{fmt.Sprintf("peak wasm memory, %d MiB download (MiB)", sz.Small/mib), fig("memory_small_mib"), "%.1f", "", nil},
		{"  growth with size (MiB)", spread("memory_big_mib", "memory_small_mib"), "%.1f", "≤ 4", flat},
		{fmt.Sprintf("peak browser memory, all processes, %d MiB download (MiB)", sz.Big/mib), fig("browser_big_mib"), "%.0f", "", nil}, // no target: context (resident, /proc)
		{fmt.Sprintf("peak browser memory, all processes, %d MiB download (MiB)", sz.Small/mib), fig("browser_small_mib"), "%.0f", "", nil},
		{fmt.Sprintf("peak worker JS heap, %d MiB download (MiB)", sz.Big/mib), fig("heap_big_mib"), "%.1f", "", nil}, // the issue sets no heap target: context
		{fmt.Sprintf("peak worker JS heap, %d MiB download (MiB)", sz.Small/mib), fig("heap_small_mib"), "%.1f", "", nil},
		{"  growth with size (MiB)", spread("heap_big_mib", "heap_small_mib"), "%.1f", "", nil},
		{"engine ready, first start (ms)", fig("startup_cold_ms"), "%.0f", "≤ 150 (Chromium)", nil},
		{"engine ready, restart (module cached by the browser) (ms)", fig("startup_restart_ms"), "%.0f", "", nil},
		{"page: bgfetch.js loaded to API usable (ms)", fig("page_script_ms"), "%.1f", "≤ 20", func(v float64) bool { return v <= 20 }},
		{"  <script> to API usable, loading included (ms)", fig("page_load_ms"), "%.1f", "", nil},
		{"page: first call answered (ms)", fig("page_first_call_ms"), "%.1f", "", nil},
		{fmt.Sprintf("fan-out %d×%d × 64 KiB (ms)", sz.FanFetches, sz.FanFiles), fig("fanout_ms"), "%.0f", "", nil},
		{"  every fetch() answered (ms)", fig("fanout_started_ms"), "%.0f", "", nil},
		{"  every byte counted in the page (ms)", fig("fanout_stored_ms"), "%.0f", "", nil},
		{"  plain-JS baseline (ms)", fig("fanout_baseline_ms"), "%.0f", "", nil},
		{"  speed vs baseline", fanout, "%.2f", "≥ 0.80", func(v float64) bool { return v >= 0.8 }},
		{"  browser CPU time, all processes (ms)", fig("fanout_cpu_ms"), "%.0f", "", nil}, // steadier than wall time on a shared machine
		{"  plain-JS baseline's browser CPU time (ms)", fig("fanout_baseline_cpu_ms"), "%.0f", "", nil},
		{"progress events per second", fig("progress_per_s"), "%.1f", "≥ 4", func(v float64) bool { return v >= 4 }},
		{"  most in one second", fig("progress_peak_per_s"), "%.0f", "≤ 60", func(v float64) bool { return v <= 60 }},
		{"progress delay, byte stored → page, median (ms)", fig("progress_delay_ms"), "%.0f", "", nil},
		{"  worst (ms)", fig("progress_delay_max_ms"), "%.0f", "≤ 250", func(v float64) bool { return v <= 250 }},
		{fmt.Sprintf("resume waste per stop, %d MiB download, median of %d runs (MiB)", sz.Resume/mib, resumeRuns(res.Runs)), fig("resume_waste_mib"), "%.2f", "≤ 4 (one segment)", func(v float64) bool { return v <= 4 }},
		{"  worst run (MiB)", fig("resume_waste_max_mib"), "%.2f", "", nil},
	}
	names := []string{"chromium", "firefox", "chromium-native"}
	width := 0
	for _, r := range rows {
		width = max(width, utf8.RuneCountInString(r.label))
	}
	fmt.Fprintf(w, "%-*s", width, "figure")
	for _, n := range names {
		fmt.Fprintf(w, " %16s", n)
	}
	fmt.Fprintf(w, "   %s\n", "target")
	misses := 0
	for _, r := range rows {
		fmt.Fprintf(w, "%-*s", width, r.label)
		for _, n := range names {
			cell := "—"
			if f, ok := res.Browsers[n]; ok {
				if v, ok := r.value(f); ok {
					cell = fmt.Sprintf(r.format, v)
					meets := r.meets
					if r.label == "engine ready, first start (ms)" && n == "chromium" {
						meets = func(v float64) bool { return v <= 150 }
					}
					if meets != nil && !meets(v) && n != "chromium-native" { // targets are bgfetch's; native is the yardstick
						cell += " MISS"
						misses++
					}
				}
			}
			fmt.Fprintf(w, " %16s", cell)
		}
		fmt.Fprintf(w, "   %s\n", r.target)
	}
	s := res.Sizes
	fmt.Fprintf(w, "\nbgfetch.wasm %.0f B raw, %.0f B gzip, %.0f B brotli (target ≤ 700 KB brotli)%s\n",
		s["wasm_raw"], s["wasm_gzip"], s["wasm_brotli"], miss(s["wasm_brotli"] <= 700_000, &misses))
	fmt.Fprintf(w, "bgfetch.js   %.0f B raw, %.0f B gzip (target ≤ 15 KB gzip)%s\n",
		s["js_raw"], s["js_gzip"], miss(s["js_gzip"] <= 15_000, &misses))
	fmt.Fprintf(w, "worker JS heap: Chromium only, sampled at its garbage collections (a lower bound); not measurable in Firefox, which has no API for it\n")
	fmt.Fprintf(w, "resume: Chromium's worker is stopped by DevTools, Firefox's by its own idle timeouts (1 s + 2 s), which may stop it more than once a download\n")
	fmt.Fprintf(w, "%d target(s) missed; medians of %d run(s); — means not applicable or not measurable there\n", misses, res.Runs)
}

func miss(ok bool, misses *int) string {
	if ok {
		return ""
	}
	*misses++
	return " MISS"
}
