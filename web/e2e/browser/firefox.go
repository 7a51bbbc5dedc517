package browser

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FirefoxOptions configures LaunchFirefox.
type FirefoxOptions struct {
	// Prefs are written to <profile>/user.js after (and so overriding) the
	// built-in test prefs. Values may be bool, string or integral numbers.
	Prefs map[string]any
	// ProfileDir is reused (and kept) when set; "" means a fresh temporary
	// directory that Close removes.
	ProfileDir string
	// ExecPath is the browser binary; "" means FindFirefox().
	ExecPath string
	// SystemAccess lets the session run script in the browser's own (chrome) scope, which
	// SetOffline needs.
	SystemAccess bool
}

// Firefox is a headless Firefox driven over WebDriver BiDi.
type Firefox struct {
	cmd       *exec.Cmd
	dir       string
	removeDir bool
	log       *tailLog
	exited    chan struct{} // closed when the process has been waited for
	bidi      *bidiConn
	context   string // id of the top-level browsing context

	closeOnce sync.Once
	closeErr  error
}

var _ Browser = (*Firefox)(nil)

// defaultFirefoxPrefs keep a headless test profile quiet, offline-safe and
// service-worker friendly.
var defaultFirefoxPrefs = map[string]any{
	"app.normandy.enabled":                               false,
	"app.update.auto":                                    false,
	"app.update.disabledForTesting":                      true,
	"browser.aboutwelcome.enabled":                       false,
	"browser.newtabpage.enabled":                         false,
	"browser.region.network.url":                         "",
	"browser.region.update.enabled":                      false,
	"browser.safebrowsing.blockedURIs.enabled":           false,
	"browser.safebrowsing.downloads.enabled":             false,
	"browser.safebrowsing.malware.enabled":               false,
	"browser.safebrowsing.phishing.enabled":              false,
	"browser.safebrowsing.update.enabled":                false,
	"browser.search.update":                              false,
	"browser.sessionstore.resume_from_crash":             false,
	"browser.shell.checkDefaultBrowser":                  false,
	"browser.startup.homepage_override.mstone":           "ignore",
	"browser.startup.page":                               0,
	"browser.tabs.warnOnClose":                           false,
	"datareporting.healthreport.uploadEnabled":           false,
	"datareporting.policy.dataSubmissionEnabled":         false,
	"dom.serviceWorkers.enabled":                         true,
	"dom.serviceWorkers.testing.enabled":                 true,
	"extensions.getAddons.cache.enabled":                 false,
	"extensions.update.enabled":                          false,
	"media.gmp-manager.updateEnabled":                    false,
	"network.captive-portal-service.enabled":             false,
	"network.connectivity-service.enabled":               false,
	"network.dns.disablePrefetch":                        true,
	"network.http.speculative-parallel-limit":            0,
	"network.prefetch-next":                              false,
	"network.proxy.type":                                 0, // direct: ignore any system proxy
	"services.settings.server":                           "data:,#remote-settings-dummy/v1",
	"toolkit.startup.max_resumed_crashes":                -1,
	"toolkit.telemetry.enabled":                          false,
	"toolkit.telemetry.reportingpolicy.firstRun":         false,
	"toolkit.telemetry.server":                           "",
	"browser.download.panel.shown":                       true,
	"browser.uitour.enabled":                             false,
	"privacy.trackingprotection.enabled":                 false,
	"security.notification_enable_delay":                 0,
	"dom.disable_open_during_load":                       false,
	"browser.contentblocking.introCount":                 99,
	"identity.fxaccounts.enabled":                        false,
	"browser.ping-centre.telemetry":                      false,
	"browser.newtabpage.activity-stream.feeds.telemetry": false,
}

// FindFirefox returns the path of a Firefox binary.
func FindFirefox() (string, error) {
	return findExecutable("Firefox", "firefox-esr", "firefox-esr", "firefox")
}

// LaunchFirefox starts headless Firefox and opens a BiDi session on its first
// tab. ctx bounds the launch only.
func LaunchFirefox(ctx context.Context, opts FirefoxOptions) (_ *Firefox, err error) {
	exe := opts.ExecPath
	if exe == "" {
		if exe, err = FindFirefox(); err != nil {
			return nil, err
		}
	}
	f := &Firefox{dir: opts.ProfileDir, log: &tailLog{}, exited: make(chan struct{})}
	if f.dir == "" {
		if f.dir, err = os.MkdirTemp("", "bgfetch-firefox-"); err != nil {
			return nil, err
		}
		f.removeDir = true
	} else if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && f.removeDir {
			os.RemoveAll(f.dir)
		}
	}()
	if err := writeUserJS(f.dir, opts.Prefs); err != nil {
		return nil, err
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	args := []string{"--headless", "--no-remote", "--profile", f.dir, "--remote-debugging-port=0"}
	if opts.SystemAccess {
		args = append(args, "--remote-allow-system-access")
	}
	f.cmd = exec.Command(exe, append(args, "about:blank")...)
	f.cmd.Stdout, f.cmd.Stderr = pw, pw
	f.cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1", "MOZ_CRASHREPORTER_SHUTDOWN=1")
	// Own group so Close can kill content processes too; Pdeathsig for a
	// test binary that dies without Close.
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := startLocked(f.cmd, f.exited); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("start firefox %s: %w", exe, err)
	}
	pw.Close() // the child holds its own copy

	urlCh := make(chan string, 1)
	go f.drain(pr, urlCh)
	defer func() {
		if err != nil {
			f.kill()
			err = withLog(fmt.Errorf("launch firefox %s: %w", exe, err), f.log)
		}
	}()

	var wsURL string
	select {
	case wsURL = <-urlCh:
	case <-f.exited:
		return nil, fmt.Errorf("firefox exited before BiDi was ready: %v", f.cmd.ProcessState)
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for BiDi: %w", context.Cause(ctx))
	}
	if f.bidi, err = dialBiDi(ctx, wsURL+"/session"); err != nil {
		return nil, err
	}
	if err = f.bidi.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{}}, nil); err != nil {
		return nil, err
	}
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	if err = f.bidi.call(ctx, "browsingContext.getTree", map[string]any{"maxDepth": 0}, &tree); err != nil {
		return nil, err
	}
	if len(tree.Contexts) == 0 {
		return nil, errors.New("no top-level browsing context")
	}
	f.context = tree.Contexts[0].Context
	return f, nil
}

// startLocked starts cmd from a goroutine locked to its OS thread, because
// Pdeathsig fires when the starting thread (not process) exits; the same
// goroutine then waits and closes exited.
func startLocked(cmd *exec.Cmd, exited chan struct{}) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(exited)
	}()
	return <-started
}

// drain keeps reading the browser output so it never blocks on a full pipe,
// keeps the tail for errors, and reports the BiDi URL once.
func (f *Firefox) drain(r *os.File, urlCh chan<- string) {
	defer r.Close()
	const marker = "WebDriver BiDi listening on "
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		_, _ = f.log.Write([]byte(line + "\n"))
		if i := strings.Index(line, marker); i >= 0 && !sent {
			urlCh <- strings.TrimSpace(line[i+len(marker):])
			sent = true
		}
	}
}

// writeUserJS writes the default prefs, then opts prefs, sorted for stable files.
func writeUserJS(dir string, prefs map[string]any) error {
	var b strings.Builder
	b.WriteString("// Written by bgfetch e2e browser driver.\n")
	for _, m := range []map[string]any{defaultFirefoxPrefs, prefs} {
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v, err := prefValue(m[n])
			if err != nil {
				return fmt.Errorf("pref %s: %w", n, err)
			}
			name, _ := json.Marshal(n)
			fmt.Fprintf(&b, "user_pref(%s, %s);\n", name, v)
		}
	}
	return os.WriteFile(filepath.Join(dir, "user.js"), []byte(b.String()), 0o644)
}

// prefValue renders a pref value as a JavaScript literal.
func prefValue(v any) (string, error) {
	switch x := v.(type) {
	case bool, string, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		b, err := json.Marshal(x)
		return string(b), err
	case float64: // e.g. values that came through encoding/json
		if x != math.Trunc(x) || math.Abs(x) > math.MaxInt32 {
			return "", fmt.Errorf("Firefox prefs hold only 32-bit integers, got %v", x)
		}
		return fmt.Sprint(int64(x)), nil
	default:
		return "", fmt.Errorf("unsupported type %T", v)
	}
}

// Name implements Browser.
func (f *Firefox) Name() string { return "firefox" }

// ProfileDir returns the profile directory in use.
func (f *Firefox) ProfileDir() string { return f.dir }

// Navigate implements Browser.
func (f *Firefox) Navigate(ctx context.Context, url string) error {
	err := f.bidi.call(ctx, "browsingContext.navigate",
		map[string]any{"context": f.context, "url": url, "wait": "complete"}, nil)
	if err != nil {
		return f.wrap(fmt.Errorf("firefox: navigate %s: %w", url, err))
	}
	return nil
}

// Eval implements Browser.
func (f *Firefox) Eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Type   string `json:"type"` // "success" or "exception"
		Result struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	err := f.bidi.call(ctx, "script.evaluate", map[string]any{
		"expression":      wrapExpr(expr),
		"target":          map[string]any{"context": f.context},
		"awaitPromise":    true,
		"resultOwnership": "none",
	}, &res)
	if err != nil {
		return f.wrap(fmt.Errorf("firefox: eval: %w", err))
	}
	if res.Type == "exception" && res.ExceptionDetails != nil {
		// Only errors the wrapper cannot catch, such as syntax errors, get here.
		// Its text is already "SyntaxError: ..."; line numbers are not
		// relative to expr, so they are left out.
		return fmt.Errorf("firefox: eval: %w", &JSError{Message: res.ExceptionDetails.Text})
	}
	var s string
	if res.Result.Type != "string" || json.Unmarshal(res.Result.Value, &s) != nil {
		return fmt.Errorf("firefox: eval: unexpected result %s %s", res.Result.Type, res.Result.Value)
	}
	if err := decodeEnvelope(s, out); err != nil {
		return fmt.Errorf("firefox: eval: %w", err)
	}
	return nil
}

// wrap adds the browser output to err when the browser has died.
func (f *Firefox) wrap(err error) error {
	select {
	case <-f.exited:
		return withLog(fmt.Errorf("%w (firefox exited: %v)", err, f.cmd.ProcessState), f.log)
	default:
		return err
	}
}

// kill SIGKILLs the whole process group and waits for it.
func (f *Firefox) kill() {
	_ = killGroup(f.cmd.Process.Pid, 5*time.Second)
	<-f.exited
	if f.bidi != nil {
		f.bidi.close()
	}
}

// Close implements Browser: browser.close, then SIGKILL if Firefox has not
// exited within 10 s.
func (f *Firefox) Close() error {
	f.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		// The connection may drop before the reply arrives; the exit is what counts.
		_ = f.bidi.call(ctx, "browser.close", nil, nil)
		cancel()
		select {
		case <-f.exited:
		case <-time.After(10 * time.Second):
			f.closeErr = withLog(errors.New("firefox: did not exit after browser.close; killed"), f.log)
		}
		f.kill() // also reaps content processes left in the group
		if f.removeDir {
			if err := os.RemoveAll(f.dir); err != nil && f.closeErr == nil {
				f.closeErr = err
			}
		}
	})
	return f.closeErr
}

// Output returns the browser's recent output (console messages too, with the stdout prefs).
func (f *Firefox) Output() string { return f.log.String() }

// CPU implements Browser.
func (f *Firefox) CPU() time.Duration { return groupCPU(f.cmd.Process.Pid) }

// Threads implements Browser.
func (f *Firefox) Threads() map[string]time.Duration { return ThreadCPU(f.cmd.Process.Pid) }

// Memory implements Browser.
func (f *Firefox) Memory() int64 { return groupRSS(f.cmd.Process.Pid) }

// SetOffline puts the whole browser in its offline mode, as when the device loses its network, or
// back online: navigator.onLine is false in pages and workers, and they get the offline and online
// events. Requests to other hosts fail, but Firefox still reaches 127.0.0.1 (measured). BiDi's
// emulation.setNetworkConditions does not reach service workers. It needs SystemAccess.
func (f *Firefox) SetOffline(ctx context.Context, offline bool) error {
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	err := f.bidi.call(ctx, "browsingContext.getTree", map[string]any{"maxDepth": 0, "moz:scope": "chrome"}, &tree)
	if err == nil && len(tree.Contexts) == 0 {
		err = errors.New("no chrome browsing context")
	}
	if err == nil {
		var res struct {
			Type string `json:"type"`
		}
		err = f.bidi.call(ctx, "script.evaluate", map[string]any{
			"expression":   fmt.Sprintf("Services.io.manageOfflineStatus = false; Services.io.offline = %t; 'ok'", offline),
			"target":       map[string]any{"context": tree.Contexts[0].Context},
			"awaitPromise": false,
		}, &res)
		if err == nil && res.Type != "success" {
			err = fmt.Errorf("script.evaluate: %s", res.Type)
		}
	}
	if err != nil {
		return f.wrap(fmt.Errorf("firefox: set offline %t: %w", offline, err))
	}
	return nil
}
