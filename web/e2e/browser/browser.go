// Package browser drives real headless browsers (Chromium over the DevTools
// protocol, Firefox over WebDriver BiDi) for the end-to-end tests.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Browser is one running browser with a single page.
type Browser interface {
	// Name is "chromium", "chromium-native" or "firefox".
	Name() string
	// Navigate loads url in the page and waits until the load completes.
	Navigate(ctx context.Context, url string) error
	// Eval evaluates the JavaScript expression expr in the page, awaits it
	// if it is a promise, and decodes its JSON form into out (out may be nil).
	Eval(ctx context.Context, expr string, out any) error
	// Close quits the browser and removes the profile if it was temporary.
	Close() error
	// CPU is the CPU time the browser's processes have used so far.
	CPU() time.Duration
	// Threads is CPU by thread, as ThreadCPU counts it.
	Threads() map[string]time.Duration
	// Memory is the resident memory of the browser's processes together, in bytes.
	Memory() int64
}

// JSError is a JavaScript exception thrown (or a promise rejected) by Eval.
type JSError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	Stack   string `json:"stack"`
}

func (e *JSError) Error() string {
	head := e.Message
	if e.Name != "" {
		head = e.Name + ": " + e.Message
	}
	// V8 stacks start with "Name: message"; Firefox stacks hold only frames.
	stack := strings.TrimRight(e.Stack, "\n")
	switch {
	case stack == "":
		return "js exception: " + head
	case strings.HasPrefix(stack, head):
		return "js exception: " + stack
	default:
		return "js exception: " + head + "\n" + stack
	}
}

// wrapExpr turns expr into an expression that always resolves to a JSON
// envelope string: {"v": value} or {"e": {name, message, stack}}. Catching
// inside the page gives both browsers the same error shape; the newlines let
// expr end with a // comment.
func wrapExpr(expr string) string {
	return `(async () => {
try {
return JSON.stringify({v: await (
` + expr + `
)});
} catch (e) {
const o = e !== null && (typeof e === "object" || typeof e === "function");
return JSON.stringify({e: {
name: o && e.name !== undefined ? String(e.name) : "",
message: o && e.message !== undefined ? String(e.message) : String(e),
stack: o && typeof e.stack === "string" ? e.stack : "",
}});
}
})()`
}

// decodeEnvelope decodes the string produced by wrapExpr into out.
func decodeEnvelope(s string, out any) error {
	var env struct {
		V json.RawMessage `json:"v"`
		E *JSError        `json:"e"`
	}
	if err := json.Unmarshal([]byte(s), &env); err != nil {
		return fmt.Errorf("decode eval envelope %q: %w", s, err)
	}
	if env.E != nil {
		return env.E
	}
	if out == nil {
		return nil
	}
	v := env.V
	if len(v) == 0 { // undefined was dropped by JSON.stringify
		v = json.RawMessage("null")
	}
	if err := json.Unmarshal(v, out); err != nil {
		return fmt.Errorf("decode eval result %s: %w", v, err)
	}
	return nil
}

// tailLog is an io.Writer that keeps the last lines written to it, so that
// launch and crash errors can show what the browser printed.
type tailLog struct {
	skip    func(line string) bool // drops known noise; may be nil
	mu      sync.Mutex
	partial []byte
	lines   []string
}

const tailLines = 100

func (l *tailLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.add(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) > 64<<10 { // a runaway line without newline
		l.add(string(l.partial))
		l.partial = nil
	}
	return len(p), nil
}

func (l *tailLog) add(line string) {
	if l.skip != nil && l.skip(line) {
		return
	}
	l.lines = append(l.lines, strings.TrimRight(line, "\r"))
	if len(l.lines) > tailLines {
		l.lines = append(l.lines[:0], l.lines[len(l.lines)-tailLines:]...)
	}
}

// String returns the kept lines.
func (l *tailLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.Join(l.lines, "\n")
	if len(l.partial) > 0 {
		s += "\n" + string(l.partial)
	}
	return s
}

// withLog appends the browser's recent output to err.
func withLog(err error, l *tailLog) error {
	if err == nil || l == nil {
		return err
	}
	if out := l.String(); out != "" {
		return fmt.Errorf("%w\n--- browser output (last %d lines) ---\n%s", err, tailLines, out)
	}
	return err
}

// killGroup SIGKILLs the process group pgid and waits up to timeout until no
// live (non-zombie) member is left; zombies are ignored because the container
// init may never reap orphans.
func killGroup(pgid int, timeout time.Duration) error {
	if pgid <= 0 {
		return nil
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && err != syscall.ESRCH {
		return fmt.Errorf("kill process group %d: %w", pgid, err)
	}
	deadline := time.Now().Add(timeout)
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("process group %d still alive after SIGKILL", pgid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// groupAlive reports whether a process that is not a zombie is in group pgid.
func groupAlive(pgid int) bool {
	alive := false
	eachInGroup(pgid, func(f []string) {
		alive = alive || (f[0] != "Z" && f[0] != "X")
	})
	return alive
}

// groupCPU is the CPU time (user and system) the live processes of group pgid have used.
func groupCPU(pgid int) time.Duration {
	var ticks int64
	eachInGroup(pgid, func(f []string) {
		if len(f) > 12 { // utime and stime are stat's fields 14 and 15
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	})
	return time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
}

// groupRSS is the resident memory of the live processes of group pgid, in bytes.
func groupRSS(pgid int) int64 {
	var pages int64
	eachInGroup(pgid, func(f []string) {
		if len(f) > 21 { // rss, in pages, is stat's field 24
			n, _ := strconv.ParseInt(f[21], 10, 64)
			pages += n
		}
	})
	return pages * int64(os.Getpagesize())
}

// eachInGroup calls fn with the /proc stat fields after the command name (state, ppid, pgrp, …)
// of each process in group pgid.
func eachInGroup(pgid int, fn func(fields []string)) {
	eachProcessInGroup(pgid, func(_ string, f []string) { fn(f) })
}

// eachProcessInGroup is eachInGroup, with each process's /proc directory name (its pid).
func eachProcessInGroup(pgid int, fn func(pid string, fields []string)) {
	entries, err := os.ReadDir("/proc")
	if err != nil || pgid <= 0 {
		return
	}
	group := strconv.Itoa(pgid)
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name in parentheses may hold spaces; fields follow the last ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		if f := strings.Fields(string(stat[i+1:])); len(f) >= 3 && f[2] == group {
			fn(e.Name(), f)
		}
	}
}

// ctxErr prefers the caller's context error over the error it caused.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", context.Cause(ctx), err)
	}
	return err
}

// findExecutable returns the first of candidates on the PATH, or an error naming the Debian package.
func findExecutable(name, pkg string, candidates ...string) (string, error) {
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no %s found (tried %s); install it, e.g. apt-get install %s",
		name, strings.Join(candidates, ", "), pkg)
}
