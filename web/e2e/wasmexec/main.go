// Command wasmexec is a go test -exec program that runs a GOOS=js
// GOARCH=wasm test binary in a page of headless Chromium:
//
//	GOOS=js GOARCH=wasm go test -exec "$(pwd)/.bin/wasmexec" ./bridge/
//
// It serves the page, wasm_exec.js, the binary and a few test endpoints
// (see endpoints.go) on 127.0.0.1, passes the server origin to the program
// as BGFETCH_TEST_ORIGIN, copies the program's stdout and stderr through
// unchanged and exits with its exit code. Besides GO*, BGFETCH*, HOME and
// TMPDIR, the variables named in WASMEXEC_ENV (comma-separated) are passed.
// The JavaScript files named in WASMEXEC_SCRIPTS (comma-separated paths) run
// in the page, in order, before the program starts.
// The run is killed after -test.timeout plus 30s, or 10 minutes without it
// (-test.timeout=0 means no limit).
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bgfetch/bgfetch/web/e2e/browser"
)

const (
	defaultTimeout = 10 * time.Minute
	timeoutSlack   = 30 * time.Second
	pollInterval   = 100 * time.Millisecond
	originEnv      = "BGFETCH_TEST_ORIGIN"
	// argvEnvLimit is the room wasm_exec.js has for argv and env
	// (wasmMinDataAddr - 4096 in wasm_exec.js).
	argvEnvLimit = 8192
)

func main() {
	os.Exit(run())
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "wasmexec: "+format+"\n", args...)
}

func run() int {
	if len(os.Args) < 2 {
		logf("usage: wasmexec prog.wasm [args...]")
		return 2
	}
	wasmPath, args := os.Args[1], os.Args[2:]
	timeout, err := hardTimeout(args)
	if err != nil {
		logf("%v", err)
		return 2
	}
	wasmExecJS, err := findWasmExecJS()
	if err != nil {
		logf("%v", err)
		return 1
	}
	if _, err := os.Stat(wasmPath); err != nil {
		logf("%v", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout,
			fmt.Errorf("timed out after %v", timeout))
		defer cancel()
	}

	var scripts []string
	if v := os.Getenv("WASMEXEC_SCRIPTS"); v != "" {
		scripts = strings.Split(v, ",")
	}
	for _, p := range scripts {
		if _, err := os.Stat(p); err != nil {
			logf("WASMEXEC_SCRIPTS: %v", err)
			return 1
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		logf("%v", err)
		return 1
	}
	origin := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: newMux(wasmPath, wasmExecJS, scripts), ErrorLog: discardLog()}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	env, dropped := programEnv(os.Environ(), origin, args)
	if len(dropped) > 0 {
		logf("argv and environment exceed %d bytes; not passing %s", argvEnvLimit, strings.Join(dropped, ", "))
	}
	code, err := runInBrowser(ctx, origin, append([]string{"test.wasm"}, args...), env)
	if err != nil {
		if ctx.Err() != nil {
			err = context.Cause(ctx) // the inner error only repeats it
		}
		logf("%v", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// runInBrowser runs the program and copies its output until it exits.
func runInBrowser(ctx context.Context, origin string, argv []string, env map[string]string) (code int, err error) {
	b, err := browser.LaunchChromium(ctx, browser.ChromiumOptions{Native: false})
	if err != nil {
		return 1, err
	}
	defer func() {
		if cerr := b.Close(); cerr != nil && err == nil {
			logf("%v", cerr)
		}
	}()
	if err := b.Navigate(ctx, origin+"/"); err != nil {
		return 1, err
	}
	argvJSON, _ := json.Marshal(argv)
	envJSON, _ := json.Marshal(env)
	if err := b.Eval(ctx, fmt.Sprintf("globalThis.__wasmexec.start(%s, %s)", argvJSON, envJSON), nil); err != nil {
		return 1, fmt.Errorf("start: %w", err)
	}
	for {
		st, err := drain(ctx, b)
		if err != nil {
			// Show what the program printed before a timeout or signal,
			// if the page still answers.
			fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, _ = drain(fctx, b)
			cancel()
			return 1, err
		}
		if st.Done {
			if st.Error != nil {
				return 1, fmt.Errorf("run: %s", *st.Error)
			}
			if st.Code == nil {
				return 1, errors.New("run: no exit code")
			}
			return *st.Code, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(pollInterval):
		}
	}
}

type state struct {
	Out        [][2]json.RawMessage `json:"out"` // [fd, base64 bytes]
	PageErrors []string             `json:"pageErrors"`
	Done       bool                 `json:"done"`
	Code       *int                 `json:"code"`
	Error      *string              `json:"error"`
}

// drain fetches new output from the page and writes it out in order.
func drain(ctx context.Context, b browser.Browser) (*state, error) {
	var st state
	if err := b.Eval(ctx, "globalThis.__wasmexec.drain()", &st); err != nil {
		return nil, err
	}
	for _, o := range st.Out {
		var fd int
		var data string
		if err := json.Unmarshal(o[0], &fd); err != nil {
			return nil, fmt.Errorf("drain: %w", err)
		}
		if err := json.Unmarshal(o[1], &data); err != nil {
			return nil, fmt.Errorf("drain: %w", err)
		}
		p, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, fmt.Errorf("drain: %w", err)
		}
		w := os.Stderr
		if fd == 1 {
			w = os.Stdout
		}
		if _, err := w.Write(p); err != nil {
			return nil, err
		}
	}
	for _, e := range st.PageErrors {
		logf("uncaught in page: %s", e)
	}
	return &st, nil
}

// hardTimeout is -test.timeout plus slack, defaultTimeout without the flag,
// and 0 (no limit) for -test.timeout=0.
func hardTimeout(args []string) (time.Duration, error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "test.timeout" {
			continue
		}
		if !hasVal {
			if i+1 == len(args) {
				return 0, errors.New("-test.timeout needs a value")
			}
			i++
			val = args[i]
		}
		d, err := time.ParseDuration(val)
		if err != nil {
			return 0, fmt.Errorf("-test.timeout: %w", err)
		}
		if d <= 0 {
			return 0, nil
		}
		return d + timeoutSlack, nil
	}
	return defaultTimeout, nil
}

// programEnv selects the variables the program gets and adds the origin. If
// argv and env do not fit wasm_exec.js's limit, the longest variables other
// than the origin are left out and returned as dropped.
func programEnv(environ []string, origin string, argv []string) (env map[string]string, dropped []string) {
	extra := strings.Split(os.Getenv("WASMEXEC_ENV"), ",")
	env = map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		if strings.HasPrefix(k, "GO") || strings.HasPrefix(k, "BGFETCH") ||
			k == "HOME" || k == "TMPDIR" || slices.Contains(extra, k) {
			env[k] = v
		}
	}
	env[originEnv] = origin

	size := func() int {
		// Each string is NUL-terminated and 8-aligned; then one 8-byte
		// pointer per string plus two terminators.
		n := 0
		add := func(s string) { n += (len(s) + 1 + 7) &^ 7; n += 8 }
		add("test.wasm")
		for _, a := range argv {
			add(a)
		}
		for k, v := range env {
			add(k + "=" + v)
		}
		return n + 16
	}
	for size() >= argvEnvLimit {
		longest := ""
		for k, v := range env {
			if k != originEnv && len(k)+len(v) > len(longest)+len(env[longest]) {
				longest = k
			}
		}
		if longest == "" {
			break // argv alone is too long; wasm_exec.js will say so
		}
		delete(env, longest)
		dropped = append(dropped, longest)
	}
	return env, dropped
}

// findWasmExecJS locates wasm_exec.js of the Go installation in use.
func findWasmExecJS() (string, error) {
	var roots []string
	if r := os.Getenv("GOROOT"); r != "" {
		roots = append(roots, r)
	}
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		if r := strings.TrimSpace(string(out)); r != "" {
			roots = append(roots, r)
		}
	}
	//lint:ignore SA1019 last resort: the GOROOT this program was built with.
	roots = append(roots, runtime.GOROOT())
	for _, r := range roots {
		for _, rel := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} {
			p := filepath.Join(r, rel)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("wasm_exec.js not found under GOROOT (tried %s)", strings.Join(roots, ", "))
}

func newMux(wasmPath, wasmExecJS string, scripts []string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page(len(scripts))))
	})
	mux.HandleFunc("GET /scripts/{i}", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.PathValue("i"))
		if err != nil || i < 0 || i >= len(scripts) {
			http.NotFound(w, r)
			return
		}
		noStore(w)
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeFile(w, r, scripts[i])
	})
	mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeFile(w, r, wasmExecJS)
	})
	mux.HandleFunc("GET /test.wasm", func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, wasmPath)
	})
	addEndpoints(mux)
	return mux
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}
