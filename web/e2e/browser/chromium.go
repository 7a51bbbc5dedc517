package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// ChromiumOptions configures LaunchChromium.
type ChromiumOptions struct {
	// Native leaves Background Fetch enabled and allows automatic downloads;
	// false starts Chromium with --disable-blink-features=BackgroundFetch.
	Native bool
	// UserDataDir is reused (and kept) when set, for restart tests; "" means
	// a fresh temporary directory that Close removes.
	UserDataDir string
	// ExecPath is the browser binary; "" means FindChromium().
	ExecPath string
}

// Chromium is a headless Chromium driven over the DevTools protocol.
type Chromium struct {
	native    bool
	dir       string
	removeDir bool
	log       *tailLog

	allocCancel   context.CancelFunc
	browserCtx    context.Context // chromedp context of the single tab
	browserCancel context.CancelFunc
	pid           int // browser pid == its process group id (Setpgid)

	mu      sync.Mutex
	killed  bool
	closed  bool
	offline []attached // service workers kept offline (SetWorkersOffline)
}

var _ Browser = (*Chromium)(nil)

// FindChromium returns the path of a Chromium or Chrome binary.
func FindChromium() (string, error) {
	return findExecutable("Chromium", "chromium", "/usr/bin/chromium", "chromium", "chromium-browser",
		"google-chrome", "google-chrome-stable", "chrome", "headless_shell", "chrome-headless-shell")
}

// LaunchChromium starts Chromium with one blank tab. ctx bounds the launch
// only; the browser lives until Close or Kill.
func LaunchChromium(ctx context.Context, opts ChromiumOptions) (_ *Chromium, err error) {
	exe := opts.ExecPath
	if exe == "" {
		if exe, err = FindChromium(); err != nil {
			return nil, err
		}
	}
	c := &Chromium{native: opts.Native, dir: opts.UserDataDir, log: &tailLog{skip: chromiumNoise}}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "bgfetch-chromium-"); err != nil {
			return nil, err
		}
		c.removeDir = true
	}
	defer func() {
		if err != nil && c.removeDir {
			os.RemoveAll(c.dir)
		}
	}()
	if opts.Native {
		if err := allowAutomaticDownloads(c.dir); err != nil {
			return nil, err
		}
	}

	// Explicit flags instead of DefaultExecAllocatorOptions, which adds
	// enable-automation, NetworkServiceInProcess and other behaviour changes.
	allocOpts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(c.dir),
		chromedp.CombinedOutput(c.log),
		// Own process group so Kill reaches renderers and utility processes
		// too; Pdeathsig replaces chromedp's default so a dying test leaves
		// no browser behind.
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		}),
	}
	if !opts.Native {
		allocOpts = append(allocOpts, chromedp.Flag("disable-blink-features", "BackgroundFetch"))
	}
	// The browser must outlive ctx, so its contexts hang off Background.
	actx, acancel := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	bctx, bcancel := chromedp.NewContext(actx)
	c.allocCancel, c.browserCtx, c.browserCancel = acancel, bctx, bcancel

	// The first Run allocates the browser, and its context becomes the
	// process context, so it must not carry ctx's deadline; race it instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	select {
	case err = <-started:
	case <-ctx.Done():
		err = context.Cause(ctx)
	}
	if err == nil {
		if b := chromedp.FromContext(bctx).Browser; b != nil && b.Process() != nil {
			c.pid = b.Process().Pid
		} else {
			err = errors.New("no browser process")
		}
	}
	if err != nil {
		c.shutdown()
		return nil, withLog(fmt.Errorf("launch chromium %s: %w", exe, err), c.log)
	}
	return c, nil
}

// chromiumNoise matches harmless output of a container without D-Bus, which
// would otherwise push the useful lines out of the kept tail.
func chromiumNoise(line string) bool {
	return strings.Contains(line, ":ERROR:dbus/")
}

// allowAutomaticDownloads sets the content setting that native Background
// Fetch needs to run without a permission prompt, keeping other preferences.
func allowAutomaticDownloads(dir string) error {
	path := filepath.Join(dir, "Default", "Preferences")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	prefs := map[string]any{}
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &prefs) // a corrupt file is simply replaced
	}
	profile, _ := prefs["profile"].(map[string]any)
	if profile == nil {
		profile = map[string]any{}
		prefs["profile"] = profile
	}
	values, _ := profile["default_content_setting_values"].(map[string]any)
	if values == nil {
		values = map[string]any{}
		profile["default_content_setting_values"] = values
	}
	values["automatic_downloads"] = 1
	b, err := json.Marshal(prefs)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Name implements Browser.
func (c *Chromium) Name() string {
	if c.native {
		return "chromium-native"
	}
	return "chromium"
}

// UserDataDir returns the profile directory in use.
func (c *Chromium) UserDataDir() string { return c.dir }

// do runs f on the tab, bounded by ctx without tying ctx to the browser.
func (c *Chromium) do(ctx context.Context, f func(context.Context, *chromedp.Target) error) error {
	rctx, cancel := context.WithCancelCause(c.browserCtx)
	defer cancel(nil)
	defer context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })()
	err := chromedp.Do(rctx, chromedp.Func(f))
	return withLog(ctxErr(ctx, err), c.crashLog(err))
}

// crashLog returns the output log when err looks like a dead browser.
func (c *Chromium) crashLog(err error) *tailLog {
	if err != nil && c.browserCtx.Err() != nil {
		return c.log
	}
	return nil
}

// Navigate implements Browser.
func (c *Chromium) Navigate(ctx context.Context, url string) error {
	err := c.do(ctx, func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Navigate(url)(ctx, t)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: navigate %s: %w", c.Name(), url, err)
	}
	return nil
}

// Eval implements Browser.
func (c *Chromium) Eval(ctx context.Context, expr string, out any) error {
	var s string
	err := c.do(ctx, func(ctx context.Context, t *chromedp.Target) error {
		yes := true
		res, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{
			Expression:    wrapExpr(expr),
			AwaitPromise:  &yes,
			ReturnByValue: &yes,
		})
		if err != nil {
			return err
		}
		if d := res.ExceptionDetails; d != nil {
			return cdpException(d)
		}
		if res.Result == nil || len(res.Result.Value) == 0 {
			return errors.New("evaluate returned no value")
		}
		return json.Unmarshal(res.Result.Value, &s)
	})
	if err != nil {
		return fmt.Errorf("%s: eval: %w", c.Name(), err)
	}
	if err := decodeEnvelope(s, out); err != nil {
		return fmt.Errorf("%s: eval: %w", c.Name(), err)
	}
	return nil
}

// cdpException formats an exception that escaped the wrapper, such as a
// syntax error in the expression.
func cdpException(d *runtime.ExceptionDetails) error {
	e := &JSError{Message: d.Text}
	if x := d.Exception; x != nil && x.Description != "" {
		// V8's description is "Name: message\n    at ...".
		e.Name = x.ClassName
		e.Stack = x.Description
		first, _, _ := strings.Cut(x.Description, "\n")
		e.Message = strings.TrimPrefix(first, e.Name+": ")
	}
	return e
}

// StopAllWorkers stops every running service worker (they restart on demand).
func (c *Chromium) StopAllWorkers(ctx context.Context) error {
	err := c.do(ctx, func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, serviceworker.Enable, cdp.Empty{}); err != nil {
			return fmt.Errorf("ServiceWorker.enable: %w", err)
		}
		if _, err := cdp.Call(ctx, t, serviceworker.StopAllWorkers, cdp.Empty{}); err != nil {
			return fmt.Errorf("ServiceWorker.stopAllWorkers: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	return nil
}

// SetPermission overrides a permission (e.g. "background-fetch") for an origin.
func (c *Chromium) SetPermission(ctx context.Context, name, setting, origin string) error {
	return command(ctx, c, "Browser.setPermission", cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: name},
		Setting:    cdpbrowser.PermissionSetting(setting),
		Origin:     origin,
	})
}

// OverrideQuota sets the storage quota of an origin to bytes; a negative value restores the default.
func (c *Chromium) OverrideQuota(ctx context.Context, origin string, bytes float64) error {
	params := storage.OverrideQuotaForOriginParams{Origin: origin}
	if bytes >= 0 {
		params.QuotaSize = &bytes
	}
	return command(ctx, c, "Storage.overrideQuotaForOrigin", storage.OverrideQuotaForOrigin, params)
}

// ClearStorage clears the given storage types ("indexeddb", "all", …) of an origin, as the browser's
// own "clear site data" does.
func (c *Chromium) ClearStorage(ctx context.Context, origin, types string) error {
	return command(ctx, c, "Storage.clearDataForOrigin", storage.ClearDataForOrigin,
		storage.ClearDataForOriginParams{Origin: origin, StorageTypes: types})
}

// command runs one DevTools command on the browser's target; name is the command's, for errors.
func command[P, R any](ctx context.Context, c *Chromium, name string, cmd cdp.Command[P, R], params P) error {
	err := c.do(ctx, func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cmd, params)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %s: %w", c.Name(), name, err)
	}
	return nil
}

// Kill SIGKILLs the browser and all its child processes, simulating a crash.
// The profile directory is kept; Close afterwards only removes a temporary one.
func (c *Chromium) Kill() error {
	c.mu.Lock()
	if c.killed || c.closed {
		c.mu.Unlock()
		return errors.New("chromium: already stopped")
	}
	c.killed = true
	c.mu.Unlock()
	err := killGroup(c.pid, 5*time.Second)
	c.shutdown()
	return err
}

// shutdown releases the chromedp contexts and makes sure no process of the
// group is left, so the profile can be reused at once.
func (c *Chromium) shutdown() {
	c.browserCancel()
	c.allocCancel()
	_ = killGroup(c.pid, 5*time.Second)
}

// Close implements Browser. It asks the browser to quit (so it flushes its
// profile), and kills it if it does not within a few seconds.
func (c *Chromium) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	killed := c.killed
	c.mu.Unlock()

	var err error
	if !killed {
		ctx, cancel := context.WithTimeout(c.browserCtx, 10*time.Second)
		err = chromedp.Cancel(ctx)
		cancel()
		if errors.Is(err, context.Canceled) {
			err = nil // the browser went away before it answered; that is the goal
		}
		c.shutdown()
	}
	if c.removeDir {
		if rerr := os.RemoveAll(c.dir); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil {
		return fmt.Errorf("%s: close: %w", c.Name(), err)
	}
	return nil
}

// CPU implements Browser.
func (c *Chromium) CPU() time.Duration { return groupCPU(c.pid) }

// Threads implements Browser.
func (c *Chromium) Threads() map[string]time.Duration { return ThreadCPU(c.pid) }

// Memory implements Browser.
func (c *Chromium) Memory() int64 { return groupRSS(c.pid) }

// SetWorkersOffline emulates a lost network connection for the running service workers: their
// requests fail, navigator.onLine is false and they get the offline event. DevTools keeps the
// emulation while it stays attached, so each worker's session is kept until the connection is
// given back (offline false).
func (c *Chromium) SetWorkersOffline(ctx context.Context, offline bool) error {
	apply := func(ctx context.Context, t *chromedp.Target) error {
		state := network.OverrideNetworkStateParams{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}
		if _, err := cdp.Call(ctx, t, network.OverrideNetworkState, state); err != nil {
			return fmt.Errorf("Network.overrideNetworkState: %w", err)
		}
		rule := network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: []*network.Conditions{
			{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}}}
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, rule); err != nil {
			return fmt.Errorf("Network.emulateNetworkConditionsByRule: %w", err)
		}
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !offline {
		var errs []error
		for _, w := range c.offline {
			rctx, stop := context.WithCancel(w.ctx) // the session ran once: a derived context bounds one call
			cancelWith := context.AfterFunc(ctx, stop)
			errs = append(errs, chromedp.Do(rctx, chromedp.Func(apply)))
			cancelWith()
			stop()
			w.cancel()
		}
		c.offline = nil
		return errors.Join(errs...)
	}
	var workers []target.ID
	err := c.do(ctx, func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, target.GetTargets, target.GetTargetsParams{})
		if err != nil {
			return fmt.Errorf("Target.getTargets: %w", err)
		}
		for _, info := range res.TargetInfos {
			if info.Type == "service_worker" {
				workers = append(workers, info.TargetID)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(workers) == 0 {
		return errors.New("no service worker is running")
	}
	for _, id := range workers {
		wctx, cancel := chromedp.NewContext(c.browserCtx, chromedp.WithTargetID(id), chromedp.WithDetachOnCancel())
		c.offline = append(c.offline, attached{wctx, cancel})
		// The session lives as long as the context of its first call, so that one is wctx, raced with ctx.
		done := make(chan error, 1)
		go func() { done <- chromedp.Do(wctx, chromedp.Func(apply)) }()
		select {
		case err = <-done:
		case <-ctx.Done():
			err = context.Cause(ctx)
		}
		if err != nil {
			return fmt.Errorf("%s: service worker %s: %w", c.Name(), id, err)
		}
	}
	return nil
}

// attached is a DevTools session kept open on another target than the tab.
type attached struct {
	ctx    context.Context
	cancel context.CancelFunc
}
