package main

import (
	"fmt"
	"strings"
)

// pageHTML is the page the test binary runs in. The first script installs
// the globalThis.fs shim that captures the program's output before
// wasm_exec.js loads (wasm_exec.js keeps an fs that is already there), and
// the globalThis.__wasmexec control object that main drives with Eval.
const pageHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>wasmexec</title>
<script>` + shimJS + `</script>
<script src="/wasm_exec.js"></script>
<!--scripts--></head><body></body></html>
`

// page is pageHTML with a script tag for each of n extra scripts, served at /scripts/<i>.
func page(n int) string {
	var tags strings.Builder
	for i := range n {
		fmt.Fprintf(&tags, "<script src=\"/scripts/%d\"></script>\n", i)
	}
	return strings.Replace(pageHTML, "<!--scripts-->", tags.String(), 1)
}

// shimJS implements what wasm_exec.js and syscall/fs_js.go use of Node's fs:
// writeSync (runtime prints), write (os.Stdout/os.Stderr), the open-flag
// constants, and ENOSYS for everything else, like wasm_exec.js's fallback.
// Output is kept as raw bytes in write order and drained as base64 chunks.
const shimJS = `
"use strict";
(() => {
	const enosys = () => {
		const err = new Error("not implemented");
		err.code = "ENOSYS";
		return err;
	};
	const state = {
		started: false, // start was called
		done: false,    // the program exited or the run failed
		code: null,     // the exit code passed to go.exit
		error: null,    // why the run failed, as text
		out: [],        // [fd, [Uint8Array...]] in write order, drained by drain()
		pageErrors: [], // uncaught errors of the page, drained by drain()
	};
	const capture = (fd, bytes) => {
		if (bytes.length === 0) {
			return;
		}
		const copy = bytes.slice(); // bytes may be a view of the wasm memory
		const last = state.out[state.out.length - 1];
		if (last && last[0] === fd) {
			last[1].push(copy);
		} else {
			state.out.push([fd, [copy]]);
		}
	};
	const base64 = (chunks) => {
		let n = 0;
		for (const c of chunks) n += c.length;
		const all = new Uint8Array(n);
		n = 0;
		for (const c of chunks) { all.set(c, n); n += c.length; }
		if (typeof all.toBase64 === "function") {
			return all.toBase64();
		}
		let s = "";
		for (let i = 0; i < all.length; i += 0x8000) {
			s += String.fromCharCode.apply(null, all.subarray(i, i + 0x8000));
		}
		return btoa(s);
	};

	globalThis.fs = {
		constants: { O_WRONLY: -1, O_RDWR: -1, O_CREAT: -1, O_TRUNC: -1, O_APPEND: -1, O_EXCL: -1, O_DIRECTORY: -1 }, // unused
		writeSync(fd, buf) {
			capture(fd, buf);
			return buf.length;
		},
		write(fd, buf, offset, length, position, callback) {
			if (fd !== 1 && fd !== 2) {
				callback(enosys());
				return;
			}
			callback(null, this.writeSync(fd, buf.subarray(offset, offset + length)));
		},
		chmod(path, mode, callback) { callback(enosys()); },
		chown(path, uid, gid, callback) { callback(enosys()); },
		close(fd, callback) { callback(enosys()); },
		fchmod(fd, mode, callback) { callback(enosys()); },
		fchown(fd, uid, gid, callback) { callback(enosys()); },
		fstat(fd, callback) { callback(enosys()); },
		fsync(fd, callback) { callback(null); },
		ftruncate(fd, length, callback) { callback(enosys()); },
		lchown(path, uid, gid, callback) { callback(enosys()); },
		link(path, link, callback) { callback(enosys()); },
		lstat(path, callback) { callback(enosys()); },
		mkdir(path, perm, callback) { callback(enosys()); },
		open(path, flags, mode, callback) { callback(enosys()); },
		read(fd, buffer, offset, length, position, callback) { callback(enosys()); },
		readdir(path, callback) { callback(enosys()); },
		readlink(path, callback) { callback(enosys()); },
		rename(from, to, callback) { callback(enosys()); },
		rmdir(path, callback) { callback(enosys()); },
		stat(path, callback) { callback(enosys()); },
		symlink(path, link, callback) { callback(enosys()); },
		truncate(path, length, callback) { callback(enosys()); },
		unlink(path, callback) { callback(enosys()); },
		utimes(path, atime, mtime, callback) { callback(enosys()); },
	};

	const describe = (e) => {
		if (e !== null && typeof e === "object" && typeof e.stack === "string" && e.stack !== "") {
			return e.stack;
		}
		return String(e);
	};
	const fail = (e) => {
		if (!state.done) {
			state.error = describe(e);
			state.done = true;
		}
	};
	// A trap while Go runs from a JS callback (timer, event, promise) does not
	// reject go.run; it surfaces here. Other uncaught errors are only reported.
	addEventListener("error", (ev) => {
		if (ev.error instanceof WebAssembly.RuntimeError) {
			fail(ev.error);
		} else if (state.started && !state.done) {
			state.pageErrors.push(describe(ev.error !== undefined ? ev.error : ev.message));
		}
	});
	addEventListener("unhandledrejection", (ev) => {
		if (ev.reason instanceof WebAssembly.RuntimeError) {
			fail(ev.reason);
		} else if (state.started && !state.done) {
			state.pageErrors.push("unhandled rejection: " + describe(ev.reason));
		}
	});

	globalThis.__wasmexec = {
		// start runs /test.wasm with argv and env without waiting for it.
		start(argv, env) {
			if (state.started) {
				throw new Error("already started");
			}
			if (typeof Go !== "function") {
				throw new Error("wasm_exec.js did not load");
			}
			state.started = true;
			const go = new Go();
			go.argv = argv;
			go.env = env;
			go.exit = (code) => {
				state.code = code;
				state.done = true;
			};
			(async () => {
				const { instance } = await WebAssembly.instantiateStreaming(fetch("/test.wasm"), go.importObject);
				await go.run(instance);
			})().then(() => {
				if (state.code === null) {
					fail(new Error("the Go program stopped without exiting"));
				}
			}, fail);
			return true;
		},
		// drain returns the output written since the last drain and the state.
		drain() {
			const out = state.out.map(([fd, chunks]) => [fd, base64(chunks)]);
			state.out = [];
			const pageErrors = state.pageErrors;
			state.pageErrors = [];
			return { out, pageErrors, done: state.done, code: state.code, error: state.error };
		},
	};
})();
`
