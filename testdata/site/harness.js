// Test harness driven by the Go end-to-end tests: every call returns JSON-able data.
(function () {
  const log = []; // progress events and worker messages, in the order the page saw them
  const regs = new Map(); // id → the BackgroundFetchRegistration this page holds
  const waiters = [];
  const streams = new Map(); // id → the promise of streamBody's result

  const snap = (r) => r && ({ id: r.id, uploadTotal: r.uploadTotal, uploaded: r.uploaded, downloadTotal: r.downloadTotal,
    downloaded: r.downloaded, result: r.result, failureReason: r.failureReason, recordsAvailable: r.recordsAvailable });

  const workerErrors = [];
  const holds = new Map(); // id → how many times the worker held its completion event
  navigator.serviceWorker.addEventListener('message', (e) => {
    if (e.data && e.data.type === 'sw-error') workerErrors.push(e.data.message);
    if (e.data && e.data.type === 'bgfetch-hold') holds.set(e.data.id, (holds.get(e.data.id) || 0) + 1);
    if (!e.data || e.data.type !== 'bgfetch-event') return;
    const r = regs.get(e.data.id);
    log.push({ kind: 'worker', ...e.data, pageView: snap(r) });
    for (const w of waiters.splice(0)) w();
  });

  function watch(r) {
    regs.set(r.id, r);
    r.addEventListener('progress', () => log.push({ kind: 'progress', at: performance.timeOrigin + performance.now(), ...snap(r) }));
  }

  // The test worker's registration for scope (default '/', the page's own), once it is active.
  async function registration(scope) {
    const url = '/sw.js' + (window.NATIVE ? '?native=1' : '');
    const reg = await navigator.serviceWorker.register(url, { scope: scope || '/' });
    if (!scope || scope === '/') return navigator.serviceWorker.ready;
    while (!reg.active) await new Promise((r) => setTimeout(r, 20));
    return reg;
  }

  let unregistered = null; // the registration harness.unregister removed
  const databaseName = (scope) => 'bgfetch ' + new URL(scope || '/', location.href).href;

  // Counts the records of each object store of the polyfill's database for scope (null if none).
  async function stored(scope) {
    const name = databaseName(scope);
    if (!(await indexedDB.databases()).some((d) => d.name === name)) return null;
    return new Promise((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onupgradeneeded = () => open.transaction.abort(); // never create it: the worker does
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const names = [...db.objectStoreNames];
        const tx = db.transaction(names, 'readonly');
        const out = {};
        for (const n of names) {
          const req = tx.objectStore(n).count();
          req.onsuccess = () => { out[n] = req.result; };
        }
        tx.oncomplete = () => { db.close(); resolve(out); };
        tx.onerror = () => { db.close(); reject(tx.error); };
      };
    });
  }

  // A frame in scope, controlled by its worker (id 'controlled': harness.closeFrame removes it).
  async function controlledFrame(scope) {
    const frame = Object.assign(document.createElement('iframe'), { id: 'controlled', src: scope + 'client' });
    await new Promise((resolve) => { frame.onload = resolve; document.body.appendChild(frame); });
    if (!frame.contentWindow.navigator.serviceWorker.controller) throw new Error('no client in ' + scope);
    return frame;
  }

  // A frame of the origin that loads bgfetch, as another tab would.
  async function bgfetchFrame() {
    const frame = Object.assign(document.createElement('iframe'), { src: '/plain.html' });
    await new Promise((resolve) => { frame.onload = resolve; document.body.appendChild(frame); });
    const doc = frame.contentWindow.document;
    await new Promise((resolve, reject) => {
      doc.head.appendChild(Object.assign(doc.createElement('script'), { src: '/dist/bgfetch.js', onload: resolve, onerror: reject }));
    });
    return frame;
  }

  window.harness = {
    async setup() {
      await registration();
      return { native: window.NATIVE, api: typeof BackgroundFetchManager };
    },
    async start(id, requests, options, scope) {
      const reg = await registration(scope);
      const r = await reg.backgroundFetch.fetch(id, requests, options || {});
      watch(r);
      return snap(r);
    },
    async get(id, scope) {
      const reg = await registration(scope);
      const r = await reg.backgroundFetch.get(id);
      if (r) watch(r);
      return r === undefined ? 'undefined' : snap(r);
    },
    async getIds(scope) {
      return (await registration(scope)).backgroundFetch.getIds();
    },
    current(id) { return snap(regs.get(id)); },
    // Whether a worker has kept its module in Cache Storage for offline starts, and forgetting it.
    async moduleKept() {
      const keys = await (await caches.open('bgfetch')).keys();
      return keys.some((r) => r.url.includes('/bgfetch.wasm?build='));
    },
    dropKeptModule() { return caches.delete('bgfetch'); },
    // Calls get(id) over and over for ms, from parallel loops (views of a page refreshing
    // themselves): how many answers came.
    async pollGet(id, ms, loops) {
      const reg = await registration();
      const end = Date.now() + ms;
      let n = 0;
      const loop = async () => { while (Date.now() < end && (await reg.backgroundFetch.get(id))) n++; };
      await Promise.all(Array.from({ length: loops }, loop));
      return n;
    },
    // Opens (or closes) a frame of the origin that does not load bgfetch, as another tab would be.
    async plainWindow(open) {
      const old = document.getElementById('plain');
      if (old) old.remove();
      if (!open) return true;
      const frame = Object.assign(document.createElement('iframe'), { id: 'plain', src: '/plain.html' });
      await new Promise((resolve) => { frame.onload = resolve; document.body.appendChild(frame); });
      return true;
    },
    stored,
    holds(id) { return holds.get(id) || 0; },
    async release(id) {
      (await registration()).active.postMessage({ type: 'release', id });
      return true;
    },
    reports(id) { return log.filter((e) => e.kind === 'worker' && e.id === id); },
    workerErrors() { return workerErrors.slice(); }, // uncaught errors and unhandled rejections in the worker
    // Reads the body of fetch id's record for path as it downloads (match() during the fetch);
    // streamed(id) gives {size, sha256} or {error}.
    streamBody(id, path) {
      streams.set(id, (async () => {
        try {
          const rec = await regs.get(id).match(path);
          const reader = (await rec.responseReady).body.getReader();
          const parts = [];
          let got = 0;
          for (;;) {
            let r;
            try { r = await reader.read(); } catch (e) { throw new Error('after ' + got + ' bytes: ' + e.name + ': ' + e.message); }
            if (r.done) break;
            parts.push(r.value);
            got += r.value.byteLength;
          }
          const body = await new Blob(parts).arrayBuffer();
          const d = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
          return { size: body.byteLength, sha256: Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('') };
        } catch (e) {
          return { error: e.name + ': ' + e.message };
        }
      })());
      return true;
    },
    streamed(id) { return streams.get(id); },
    // Takes fetch id's records in the listener of the progress event that carries its result.
    matchOnResult(id) {
      const r = regs.get(id);
      r.addEventListener('progress', () => {
        if (r.result && !streams.has('result:' + id)) streams.set('result:' + id, r.matchAll());
      });
      return true;
    },
    // Takes fetch id's records now, for readTaken('now:' + id).
    matchNow(id) {
      streams.set('now:' + id, regs.get(id).matchAll());
      return true;
    },
    readOnResult(id) { return harness.readTaken('result:' + id); },
    // Reads the records matchOnResult or matchNow took: [{url, size, sha256}] or {error}.
    async readTaken(key) {
      try {
        const records = await streams.get(key);
        return await Promise.all(records.map(async (rec) => {
          const body = await (await rec.responseReady).arrayBuffer();
          const d = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
          return { url: rec.request.url, size: body.byteLength, sha256: Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('') };
        }));
      } catch (e) {
        return { error: e.name + ': ' + e.message };
      }
    },
    // When the active worker started, and now (ms since the epoch); asking starts a stopped one.
    async workerStartedAt() {
      const reg = await navigator.serviceWorker.getRegistration('/');
      const { port1, port2 } = new MessageChannel();
      const answer = new Promise((resolve) => { port1.onmessage = (e) => resolve(e.data); });
      const now = performance.timeOrigin + performance.now();
      reg.active.postMessage({ type: 'startedAt' }, [port2]);
      return { worker: await answer, now };
    },
    // The worker's navigator.onLine.
    async workerOnLine() {
      const { port1, port2 } = new MessageChannel();
      const answer = new Promise((resolve) => { port1.onmessage = (e) => resolve(e.data); });
      (await registration()).active.postMessage({ type: 'onLine' }, [port2]);
      return answer;
    },
    // Makes the worker's Go instance panic ('crash') or throw a JS exception through its frames
    // ('trap'); the call itself is never answered.
    async crashEngine(op = 'crash') {
      (await registration()).active.postMessage({ __bgfetch: { op, args: '{}' } });
      return true;
    },
    // Deletes the polyfill's database for scope, as an application clearing all its storage does:
    // whether it was deleted within timeoutMs, and whether it was blocked on the way.
    deleteDatabase(timeoutMs, scope) {
      return new Promise((resolve) => {
        const out = { deleted: false, blocked: false, error: '' };
        const req = indexedDB.deleteDatabase(databaseName(scope));
        req.onblocked = () => { out.blocked = true; };
        req.onsuccess = () => { out.deleted = true; resolve(out); };
        req.onerror = () => { out.error = String(req.error); resolve(out); };
        setTimeout(() => resolve(out), timeoutMs);
      });
    },
    // Registers another version of the test worker for scope (query '?wait=1': one that does not skip
    // waiting) and resolves with its state once it has installed.
    async update(query, scope) {
      // A client of the active worker (a frame in its scope), without which the new version would not wait.
      const frame = document.createElement('iframe');
      frame.src = scope + 'client';
      await new Promise((resolve) => { frame.onload = resolve; document.body.appendChild(frame); });
      if (!frame.contentWindow.navigator.serviceWorker.controller) return 'no client in ' + scope;
      const reg = await navigator.serviceWorker.register('/sw.js?' + query, { scope });
      const w = reg.installing || reg.waiting;
      while (w.state === 'installing') await new Promise((r) => setTimeout(r, 20));
      return w.state;
    },
    // Registers the test worker with query for scope and resolves with its state once it has settled.
    async registerAt(query, scope) {
      const reg = await navigator.serviceWorker.register('/sw.js?' + query, { scope });
      const w = reg.installing || reg.waiting || reg.active;
      while (w.state === 'installing' || w.state === 'installed' || w.state === 'activating') await new Promise((r) => setTimeout(r, 20));
      return w.state;
    },
    // What the install handler of scope's waiting version got from getIds() (sw.js, ?call=1).
    async installCall(scope) {
      const reg = await navigator.serviceWorker.getRegistration(scope);
      const { port1, port2 } = new MessageChannel();
      const answer = new Promise((resolve) => { port1.onmessage = (e) => resolve(e.data); });
      reg.waiting.postMessage({ type: 'installCall' }, [port2]);
      return answer;
    },
    async unregister(scope) {
      unregistered = await navigator.serviceWorker.getRegistration(scope);
      return unregistered.unregister();
    },
    // Unregisters scope's registration from another realm of the origin (a frame of this page, as
    // another tab would), which loads bgfetch too.
    async unregisterElsewhere(scope) {
      const frame = await bgfetchFrame();
      try {
        const reg = await frame.contentWindow.navigator.serviceWorker.getRegistration(scope);
        return await reg.unregister();
      } finally {
        frame.remove();
      }
    },
    // The usual kill switch, in a frame that loads bgfetch: unregister() without waiting for it, and
    // navigate away at once. Resolves once the frame has left.
    async unregisterAndLeave(scope) {
      const frame = await bgfetchFrame();
      const w = frame.contentWindow;
      const reg = await w.navigator.serviceWorker.getRegistration(scope);
      const left = new Promise((resolve) => { frame.onload = resolve; });
      reg.unregister();
      w.location.href = '/plain.html?left';
      await left;
      frame.remove();
      return true;
    },
    // Whether the browser holds a registration of exactly scope.
    async registered(scope) {
      const reg = await navigator.serviceWorker.getRegistration(scope);
      return !!reg && reg.scope === new URL(scope, location.href).href;
    },
    // Unregisters scope's registration twice while a frame it controls keeps it, and its worker,
    // until the frame goes (closeFrame): [first answer, second answer].
    async unregisterTwice(scope) {
      await controlledFrame(scope);
      const reg = await navigator.serviceWorker.getRegistration(scope);
      return [await reg.unregister(), await reg.unregister()];
    },
    // Unregisters scope's registration while a frame it controls keeps it, then registers the test
    // worker again, which revives it: [unregister's answer, whether the same worker came back].
    async unregisterThenRegister(scope) {
      await controlledFrame(scope);
      const reg = await navigator.serviceWorker.getRegistration(scope);
      const worker = reg.active;
      const ok = await reg.unregister();
      const again = await registration(scope);
      return [ok, again.active === worker];
    },
    closeFrame(id) {
      document.getElementById(id).remove();
      return true;
    },
    // The worker of scope unregisters itself and then calls fetch(id, requests): {ok, after}, where
    // after is the error's name or 'resolved'.
    async unregisterFromWorker(scope, id, requests) {
      const reg = await navigator.serviceWorker.getRegistration(scope);
      const { port1, port2 } = new MessageChannel();
      const answer = new Promise((resolve) => { port1.onmessage = (e) => resolve(e.data); });
      reg.active.postMessage({ type: 'unregister', id, requests }, [port2]);
      const late = new Promise((_, reject) => setTimeout(() => reject(new Error('the worker did not answer')), 10000));
      return Promise.race([answer, late]);
    },
    // Calls fetch() on the registration harness.unregister removed: the error's name, or 'resolved'.
    async fetchUnregistered(id, requests) {
      try {
        await unregistered.backgroundFetch.fetch(id, requests);
        return 'resolved';
      } catch (e) {
        return e.name;
      }
    },
    // Resolves with the log once the worker reported the completion event of id.
    async finished(id, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (log.some((e) => e.kind === 'worker' && e.id === id)) return log.filter((e) => e.id === id);
        if (Date.now() > deadline) {
          throw new Error('no completion event for ' + id + ' after ' + timeoutMs + ' ms; log: ' +
            JSON.stringify(log.filter((e) => e.id === id).slice(-3)) + '; worker errors: ' + JSON.stringify(workerErrors.slice(-5)));
        }
        await new Promise((res) => { waiters.push(res); setTimeout(res, 200); });
      }
    },
  };
})();
