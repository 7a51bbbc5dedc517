package browser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// WebKit is WebKitGTK's MiniBrowser driven by WebKitWebDriver (classic WebDriver over HTTP), on a
// display of its own Xvfb: the GTK port has no headless mode. All three share one process group.
type WebKit struct {
	xvfb, cmd  *exec.Cmd // Xvfb, and WebKitWebDriver, whose child is the MiniBrowser
	xvfbExited chan struct{}
	exited     chan struct{}
	display    int
	log        *tailLog
	base       string // http://127.0.0.1:PORT/session/ID
	client     *http.Client
	dataDir    string
	closeOnce  sync.Once
	closeErr   error
}

var _ Browser = (*WebKit)(nil)

// FindWebKitDriver returns the path of WebKitWebDriver.
func FindWebKitDriver() (string, error) {
	return findExecutable("WebKitWebDriver", "webkit2gtk-driver", "WebKitWebDriver")
}

// findMiniBrowser returns WebKitGTK's MiniBrowser, which Debian ships outside the PATH.
func findMiniBrowser() (string, error) {
	for _, glob := range []string{"/usr/lib/*/webkit2gtk-4.1/MiniBrowser", "/usr/lib/*/webkit2gtk-4.0/MiniBrowser",
		"/usr/lib/*/webkitgtk-6.0/MiniBrowser", "/usr/libexec/webkit2gtk-4.1/MiniBrowser"} {
		if m, _ := filepath.Glob(glob); len(m) > 0 {
			return m[0], nil
		}
	}
	return "", errors.New("no MiniBrowser found; install it, e.g. apt-get install webkit2gtk-driver")
}

// LaunchWebKit starts Xvfb and WebKitWebDriver and opens a session in a new MiniBrowser. ctx bounds
// the launch only.
func LaunchWebKit(ctx context.Context) (_ *WebKit, err error) {
	driver, err := FindWebKitDriver()
	if err != nil {
		return nil, err
	}
	mini, err := findMiniBrowser()
	if err != nil {
		return nil, err
	}
	xvfb, err := findExecutable("Xvfb", "xvfb", "Xvfb")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	w := &WebKit{log: &tailLog{}, exited: make(chan struct{}), xvfbExited: make(chan struct{}), client: &http.Client{}, display: -1}
	if w.dataDir, err = os.MkdirTemp("", "bgfetch-webkit-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			w.kill()
			os.RemoveAll(w.dataDir)
			err = withLog(fmt.Errorf("launch webkit: %w", err), w.log)
		}
	}()
	if w.display, err = w.startXvfb(ctx, xvfb); err != nil {
		return nil, err
	}
	w.cmd = exec.Command(driver, "--port="+strconv.Itoa(port), "--host=127.0.0.1")
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	w.cmd.WaitDelay = time.Second // the MiniBrowser holds the output pipe too
	w.cmd.Env = append(os.Environ(), "DISPLAY=:"+strconv.Itoa(w.display),
		"XDG_DATA_HOME="+w.dataDir, "XDG_CACHE_HOME="+w.dataDir, "HOME="+w.dataDir)
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: w.xvfb.Process.Pid, Pdeathsig: syscall.SIGKILL}
	if err := startLocked(w.cmd, w.exited); err != nil {
		w.cmd = nil
		return nil, fmt.Errorf("start %s: %w", driver, err)
	}
	root := "http://127.0.0.1:" + strconv.Itoa(port)
	var session struct {
		SessionID string `json:"sessionId"`
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName":              "MiniBrowser",
		"webkitgtk:browserOptions": map[string]any{"binary": mini, "args": []string{"--automation", "--features=+StorageAPI,+StorageAPIEstimate"}},
	}}}
	for {
		err = w.do(ctx, http.MethodPost, root+"/session", caps, &session)
		if !errors.Is(err, syscall.ECONNREFUSED) || ctx.Err() != nil {
			break
		}
		select { // the driver does not listen yet
		case <-w.exited:
			return nil, fmt.Errorf("WebKitWebDriver exited: %v", w.cmd.ProcessState)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err != nil {
		return nil, err
	}
	w.base = root + "/session/" + session.SessionID
	// Eval's own context bounds a script, not the driver's default of 30 s.
	if err := w.do(ctx, http.MethodPost, w.base+"/timeouts", map[string]any{"script": 30 * 60 * 1000, "pageLoad": 60 * 1000}, nil); err != nil {
		return nil, err
	}
	return w, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// do sends one WebDriver command and decodes its value into out (out may be nil).
func (w *WebKit) do(ctx context.Context, method, url string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var reply struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return fmt.Errorf("webdriver %s %s: %s: %w", method, url, resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(reply.Value, &e)
		return fmt.Errorf("webdriver %s: %s: %s", method, e.Error, e.Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(reply.Value, out)
}

// Name implements Browser.
func (w *WebKit) Name() string { return "webkit" }

// Navigate implements Browser.
func (w *WebKit) Navigate(ctx context.Context, url string) error {
	if err := w.do(ctx, http.MethodPost, w.base+"/url", map[string]any{"url": url}, nil); err != nil {
		return w.wrap(fmt.Errorf("webkit: navigate %s: %w", url, err))
	}
	return nil
}

// evalScript runs wrapExpr's source through an indirect eval, so that a syntax error in it comes
// back in the envelope as a SyntaxError (WebDriver reports only its message).
const evalScript = `const done = arguments[arguments.length - 1];
let p;
try {
  p = (0, eval)(arguments[0]);
} catch (e) {
  done(JSON.stringify({e: {name: String(e.name), message: String(e.message), stack: ""}}));
  return;
}
p.then(done);`

// Eval implements Browser.
func (w *WebKit) Eval(ctx context.Context, expr string, out any) error {
	var s string
	err := w.do(ctx, http.MethodPost, w.base+"/execute/async", map[string]any{"script": evalScript, "args": []any{wrapExpr(expr)}}, &s)
	if err != nil {
		return w.wrap(fmt.Errorf("webkit: eval: %w", err))
	}
	if err := decodeEnvelope(s, out); err != nil {
		return fmt.Errorf("webkit: eval: %w", err)
	}
	return nil
}

// wrap adds the driver's output to err when it has died.
func (w *WebKit) wrap(err error) error {
	select {
	case <-w.exited:
		return withLog(fmt.Errorf("%w (WebKitWebDriver exited: %v)", err, w.cmd.ProcessState), w.log)
	default:
		return err
	}
}

// startXvfb starts Xvfb on a free display, which it names on a pipe (-displayfd), and returns it.
func (w *WebKit) startXvfb(ctx context.Context, exe string) (int, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer pr.Close()
	w.xvfb = exec.Command(exe, "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1280x1024x24")
	w.xvfb.ExtraFiles = []*os.File{pw} // fd 3
	w.xvfb.Stdout, w.xvfb.Stderr = w.log, w.log
	w.xvfb.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = startLocked(w.xvfb, w.xvfbExited)
	pw.Close()
	if err != nil {
		w.xvfb = nil
		return 0, fmt.Errorf("start %s: %w", exe, err)
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(pr).ReadString('\n') // Xvfb writes the number and a newline once it is ready
		line <- l
	}()
	select {
	case l := <-line:
		n, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil {
			return 0, fmt.Errorf("Xvfb named no display (%q)", l)
		}
		return n, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("waiting for Xvfb: %w", context.Cause(ctx))
	}
}

// kill ends the driver and the browser, then Xvfb: SIGTERM first, so that Xvfb removes its lock
// file and socket (SIGKILL would leave them in /tmp), then SIGKILL for whatever is left.
func (w *WebKit) kill() {
	if w.xvfb == nil {
		return
	}
	pgid := w.xvfb.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-w.xvfbExited:
	case <-time.After(3 * time.Second):
	}
	_ = killGroup(pgid, 5*time.Second)
	<-w.xvfbExited
	if w.cmd != nil {
		<-w.exited
	}
	if w.display >= 0 { // in case Xvfb could not clean up after itself
		os.Remove(fmt.Sprintf("/tmp/.X%d-lock", w.display))
		os.Remove(fmt.Sprintf("/tmp/.X11-unix/X%d", w.display))
	}
}

// Close implements Browser: ends the session, then the driver, the browser and Xvfb.
func (w *WebKit) Close() error {
	w.closeOnce.Do(func() {
		if w.base != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = w.do(ctx, http.MethodDelete, w.base, nil, nil)
			cancel()
		}
		w.kill()
		w.closeErr = os.RemoveAll(w.dataDir)
	})
	return w.closeErr
}

// Output returns the driver's and the browser's recent output.
func (w *WebKit) Output() string { return w.log.String() }

// CPU implements Browser.
func (w *WebKit) CPU() time.Duration { return groupCPU(w.xvfb.Process.Pid) }

// Threads implements Browser.
func (w *WebKit) Threads() map[string]time.Duration { return ThreadCPU(w.xvfb.Process.Pid) }

// Memory implements Browser.
func (w *WebKit) Memory() int64 { return groupRSS(w.xvfb.Process.Pid) }
