// Conformance runner: scenarios use only the public API and record named checks, which the Go
// suite compares against the spec (and testdata/native-deviations.json).
(function () {
  const scenarios = new Map();
  const holds = new Map(); // id → resolve, for the worker's "the event is held open" message
  const SCENARIO_LIMIT = 90000;
  let counter = 0;

  navigator.serviceWorker.addEventListener('message', (e) => {
    if (e.data && e.data.type === 'bgfetch-hold') {
      const h = holds.get(e.data.id);
      if (h) h.resolve(e.data); else holds.set(e.data.id, { data: e.data });
    }
  });

  const fmt = (v) => (v === undefined ? 'undefined' : typeof v === 'string' ? JSON.stringify(v) : String(JSON.stringify(v) ?? v));
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function errorMatches(e, name) {
    if (name === 'TypeError') return e instanceof TypeError;
    if (name === 'QuotaExceededError' && typeof self.QuotaExceededError === 'function') {
      return e instanceof self.QuotaExceededError && e.name === name;
    }
    return e instanceof DOMException && e.name === name;
  }

  class T {
    constructor(name) {
      this.name = name;
      this.checks = [];
    }

    check(label, ok, detail) {
      this.checks.push({ check: this.name + '/' + label, ok: !!ok, detail: ok ? '' : String(detail === undefined ? '' : detail) });
      return !!ok;
    }

    equal(label, actual, expected) {
      return this.check(label, Object.is(actual, expected), `got ${fmt(actual)}, want ${fmt(expected)}`);
    }

    // An operation that fails must return a rejected promise (WebIDL), never throw.
    async rejects(label, call, name) {
      let p;
      try {
        p = call();
      } catch (e) {
        return this.check(label, false, `threw synchronously ${e && e.name}: ${e && e.message}`);
      }
      if (!(p instanceof Promise)) return this.check(label, false, 'did not return a promise');
      try {
        const v = await p;
        return this.check(label, false, `resolved with ${fmt(v)}, want a ${name}`);
      } catch (e) {
        return this.check(label, errorMatches(e, name), `rejected with ${e && e.constructor && e.constructor.name} ${e && e.name}: ${e && e.message}; want ${name}`);
      }
    }

    id(mode) {
      return (mode || 'plain') + '.' + this.name + '-' + (++counter) + '-' + Date.now();
    }

    url(path) {
      return new URL(path, location.href).href;
    }

    // The same path on another origin of the test server (localhost instead of 127.0.0.1).
    crossOrigin(path) {
      return location.protocol + '//localhost:' + location.port + path;
    }

    reg() {
      return navigator.serviceWorker.ready;
    }

    // Delays by ms every answer that comes to a port made from now on (the polyfill's calls to the
    // worker); the returned function stops it.
    delayAnswers(ms) {
      const Real = window.MessageChannel;
      const desc = Object.getOwnPropertyDescriptor(MessagePort.prototype, 'onmessage');
      window.MessageChannel = function MessageChannel() {
        const ch = new Real();
        Object.defineProperty(ch.port1, 'onmessage', {
          configurable: true,
          get() { return desc.get.call(this); },
          set(h) { desc.set.call(this, h && ((e) => setTimeout(() => h(e), ms))); },
        });
        return ch;
      };
      return () => { window.MessageChannel = Real; };
    }

    async fetch(id, requests, options) {
      return (await this.reg()).backgroundFetch.fetch(id, requests, options);
    }

    // The worker's report of the completion event of id (see sw.js).
    async event(id, ms) {
      const log = await harness.finished(id, ms || 30000);
      return log.find((e) => e.kind === 'worker');
    }

    // Resolves when the worker holds the completion event of id open (mode "hold").
    held(id, ms) {
      const h = holds.get(id);
      if (h && h.data) return Promise.resolve(h.data);
      return new Promise((resolve, reject) => {
        holds.set(id, { resolve });
        setTimeout(() => reject(new Error('the event of ' + id + ' was not held')), ms || 30000);
      });
    }

    async release(id) {
      (await this.reg()).active.postMessage({ type: 'release', id });
    }

    // Asks the test worker to run one of its commands and returns its answer.
    async worker(command, args) {
      const reg = await this.reg();
      const { port1, port2 } = new MessageChannel();
      const answer = new Promise((resolve, reject) => {
        port1.onmessage = (e) => resolve(e.data);
        setTimeout(() => reject(new Error('the worker did not answer ' + command)), 10000);
      });
      reg.active.postMessage(Object.assign({ type: command }, args), [port2]);
      return answer;
    }

    async until(label, cond, ms) {
      const deadline = Date.now() + (ms || 15000);
      for (;;) {
        if (await cond()) return true;
        if (Date.now() > deadline) return this.check(label, false, 'timed out');
        await sleep(50);
      }
    }

    sleep(ms) { return sleep(ms); }

    async sha256(buf) {
      const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
      return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
    }

    async serverSHA(path) {
      return (await fetch('/sha256' + path)).text();
    }

    async serverLog() {
      return (await fetch('/log')).json();
    }

    // Records every progress event of reg, with the values it carried.
    watch(reg) {
      const events = [];
      reg.addEventListener('progress', (e) => events.push({ downloaded: reg.downloaded, uploaded: reg.uploaded,
        result: reg.result, failureReason: reg.failureReason, recordsAvailable: reg.recordsAvailable, type: e.type,
        cancelable: e.cancelable, bubbles: e.bubbles }));
      return events;
    }
  }

  window.scenario = (name, fn) => {
    if (scenarios.has(name)) throw new Error('duplicate scenario ' + name);
    scenarios.set(name, fn);
  };

  window.conformance = {
    list() { return [...scenarios.keys()]; },
    async run(name) {
      const t = new T(name);
      let timer;
      const limit = new Promise((resolve, reject) => {
        timer = setTimeout(() => reject(new Error('the scenario did not finish within ' + SCENARIO_LIMIT + ' ms')), SCENARIO_LIMIT);
      });
      try {
        await Promise.race([scenarios.get(name)(t), limit]);
      } catch (e) {
        t.check('completes', false, `threw ${e && e.name}: ${e && e.message}`);
      }
      clearTimeout(timer);
      if (t.checks.length === 0) t.check('asserts something', false, 'the scenario made no check');
      return t.checks;
    },
  };
})();
