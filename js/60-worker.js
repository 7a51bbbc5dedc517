  // The service worker owns the engine (Go compiled to WebAssembly) and fires the events.
  const KEEPALIVE_HOLD = 15000;

  // startEarly runs from the prelude, as do the two after it: hoisted declarations that use nothing
  // declared after the prelude.
  function startEarly() {
    return { compiled: compileEngine(), opened: openEngineDatabase(engineDatabase()) };
  }

  function engineDatabase() {
    return databaseName(g.registration.scope);
  }

  // A network failure falls back to the copy keepModule stored, so a worker restarted offline still
  // starts its engine. An HTTP error does not: the server answered, and only this build's module fits.
  function compileEngine() {
    const url = base + 'bgfetch.wasm';
    const get = () => fetch(url).catch((e) => keptModule().then((r) => r || Promise.reject(e)));
    return WebAssembly.compileStreaming(get())
      .catch(() => get().then((r) => r.arrayBuffer()).then((b) => WebAssembly.compile(b)));
  }

  // The Cache Storage entry of this build's module (make stamps the build: a hash of the module).
  function moduleKey() {
    return base + 'bgfetch.wasm?build=__BGFETCH_BUILD__';
  }

  function keptModule() {
    return g.caches ? g.caches.open(MODULE_CACHE).then((c) => c.match(moduleKey())).catch(() => undefined) : Promise.resolve();
  }

  // keepModule stores this build's module for offline starts, once, and drops other builds'. Run
  // after start-up: it fetches the module again (from the HTTP cache, mostly) to check its hash.
  async function keepModule() {
    try {
      if (await keptModule()) return;
      const url = base + 'bgfetch.wasm';
      const r = await fetch(url);
      if (!r.ok) return;
      const b = await r.arrayBuffer();
      const d = new Uint8Array(await g.crypto.subtle.digest('SHA-256', b));
      const hash = Array.from(d.slice(0, 8), (x) => x.toString(16).padStart(2, '0')).join('');
      if (moduleKey() !== url + '?build=' + hash) return; // the server has another build than this shim's
      const cache = await g.caches.open(MODULE_CACHE);
      for (const k of await cache.keys()) if (k.url.startsWith(url + '?build=')) await cache.delete(k);
      await cache.put(moduleKey(), new Response(b, { headers: { 'Content-Type': 'application/wasm' } }));
    } catch (e) { /* no Cache Storage here (a private window, say): offline starts need the network */ }
  }

  function installWorker() {
    const scope = g.registration.scope;
    const database = engineDatabase();
    const pending = new Set();
    let engine = null;
    let compiled = null;
    let opened = null;
    let engineDB = null; // the connection the running engine read what is stored from
    let restarts = 0;
    let moduleKept = null; // keepModule, once per worker start
    let retired = false; // being unregistered: no engine restarts, calls are refused, nothing is stored again
    const callers = new Set(); // ids of the clients that sent the engine anything: they run bgfetch
    const acks = new Map(); // uniqueId → ids of the clients that acknowledged its final update
    const ackChecks = new Set(); // acknowledged()'s waits, checked again at every acknowledgement
    const dispatching = new Map(); // uniqueId → the settling of its completion event, while it runs
    compile(early.compiled); // both began before wasm_exec.js is imported, so neither waits for it
    openStore(early.opened);
    if (typeof g.Go !== 'function') importScripts(base + 'wasm_exec.js'); // only possible during the first evaluation
    // With config.debug, benchmarks read the engine's memory and start-up time here.
    const debug = { memory: null, readyAt: 0 };
    if (config.debug) g.__bgfetchDebug = debug;
    // A new version, until it is activated, leaves the engine to the active worker: it does not take
    // the engine lock (engineLock) the active worker may need, and while another copy's engine holds
    // that lock, its calls (in its install handler, say) go there, as a page's do, and it follows
    // their updates on the channel. Firefox has no self.serviceWorker: there a copy counts as new
    // between its install and activate events (its engine may have started as it was evaluated).
    let following = null;
    let installing = false;
    let lockHeld = false; // this copy's engine holds the engine lock
    g.addEventListener('install', () => { installing = true; });
    const notYetActive = () => {
      const active = g.registration.active;
      if (!active) return false; // the first version: nobody else can run the engine
      if (g.serviceWorker) return active !== g.serviceWorker && ['parsed', 'installing', 'installed'].includes(g.serviceWorker.state);
      return installing;
    };
    const client = new Client(g.registration, (op, args, bodies) => {
      if (!notYetActive()) return engineCall(op, JSON.stringify(args), bodies);
      // An active worker whose engine holds no lock may not run bgfetch at all (an application
      // adopting it in this version): then this copy's engine answers.
      return lockHolder().then((elsewhere) => {
        if (!elsewhere) return engineCall(op, JSON.stringify(args), bodies);
        if (!following) {
          following = new BroadcastChannel(channelName(scope));
          following.onmessage = (e) => { if (e.data && e.data.bgfetch === 'update') client.update(e.data.snapshot); };
        }
        return activeWorkerCall(g.registration, op, args, bodies);
      });
    });
    g.addEventListener('activate', () => {
      installing = false;
      if (!retired) startEngine().catch((e) => console.error(e)); // its turn: it waits for the old worker's engine to end
    });

    // compile and openStore keep what succeeds and begin again after a failure.
    function compile(started) {
      compiled = compiled || started || compileEngine();
      compiled.catch(() => { compiled = null; });
      return compiled;
    }

    function openStore(started) {
      if (retired) return Promise.reject(unregistered()); // opening would create the database again
      if (opened) return opened;
      const p = opened = started || openEngineDatabase(database);
      p.then((db) => {
        // The database deleted, or closed by the browser (site data cleared), under the engine: what
        // it holds in memory no longer matches what is stored, so its instance ends and a new one
        // starts from what is stored. A newer version's upgrade waits for the engine's worker to end,
        // but not for a connection no engine has read from yet (this worker may be waiting for the lock).
        const lost = () => {
          if (opened !== p) return; // let go of already
          opened = null;
          db.close();
          if (engineDB === db) stopEngine();
        };
        db.addEventListener('versionchange', (e) => { if (e.newVersion === null || engineDB !== db) lost(); });
        db.addEventListener('close', lost);
      }, () => { if (opened === p) opened = null; });
      return p;
    }

    // One engine per registration at a time: a new version's worker, installed while the active one
    // downloads, waits until the active one has ended before it reads what is stored. It resolves
    // with the function that releases the lock.
    function engineLock() {
      if (!g.navigator.locks) return Promise.resolve(() => {});
      return new Promise((resolve, reject) => {
        g.navigator.locks.request('bgfetch engine ' + scope, () => new Promise((release) => resolve(release))).catch(reject);
      });
    }

    // lockHolder reports whether another copy's engine holds the engine lock.
    function lockHolder() {
      if (!g.navigator.locks) return Promise.resolve(false);
      return g.navigator.locks.query().then((s) => !lockHeld && s.held.some((l) => l.name === 'bgfetch engine ' + scope), () => false);
    }

    function startEngine() {
      if (engine) return engine;
      const io = bodyIO();
      const locked = engineLock();
      locked.then(() => { lockHeld = true; }, () => {});
      const unlock = () => locked.then((release) => { lockHeld = false; release(); }, () => {});
      const current = engine = new Promise((resolve, reject) => {
        const loaded = locked.then(() => openStore()).then((db) => { // read while the module compiles
          if (engine === current) engineDB = db;
          return loadEngineData(db);
        });
        loaded.catch(() => {}); // Go reports it once it awaits; a failed compile means it never does
        const host = {
          database,
          opened: loaded,
          channel: channelName(scope),
          debug: !!config.debug,
          stallTimeout: config.stallTimeout, // ms without a byte before a request is retried
          eventLimit: config.eventLimit, // ms a completion event's waitUntil promises may keep its records
          io,
          ready: () => {
            // The old worker's engine has ended: from now on updates come from this copy's own.
            if (following) following.close();
            following = null;
            restarts = 0;
            debug.readyAt = performance.now();
            resolve(host.call);
            client.reconcile(); // this realm's registrations, after an engine that exited: pages do it at the roll call
            if (!moduleKept) moduleKept = delay(1000).then(keepModule); // off the start-up path
          },
          fail: (message) => reject(transientError('bgfetch engine: ' + message)),
          update: (snap) => {
            if (snap.result && snap.recordsAvailable) acks.set(snap.uniqueId, new Set()); // a new round (a restarted engine's too)
            return client.update(snap);
          },
          dispatch: (type, snap, ms) => dispatchCompletion(type, snap, ms),
          acknowledged: (uniqueId, everyWindow, ms) => acknowledged(uniqueId, everyWindow, ms),
        };
        g.__bgfetchHost = host;
        const go = new g.Go();
        compile().then((module) => WebAssembly.instantiate(module, go.importObject)).then((instance) => {
          if (config.debug) debug.memory = instance.exports.mem;
          const exited = () => {
            // wasm_exec.js leaves the instance's pending timers, which would resume it (an error each).
            if (go._scheduledTimeouts) for (const t of go._scheduledTimeouts.values()) clearTimeout(t);
            unlock();
            reject(transientError('bgfetch engine: it ended before it was ready')); // no-op once ready
            engineExited(current, io);
          };
          trapEnds(go);
          go.run(instance).then(exited, exited);
        }).catch((e) => { // no module (offline, with none kept): callers try again later
          unlock();
          reject(transientError('bgfetch engine: ' + (e && e.message)));
        });
      });
      current.catch(() => { if (engine === current) engine = null; });
      return current;
    }

    // A trap (or a JS exception thrown through Go's frames) leaves Go's state torn mid-step, and
    // wasm_exec.js would go on resuming it with run() never settling: it ends the instance instead.
    function trapEnds(go) {
      const resume = go._resume;
      go._resume = function () {
        try {
          return resume.call(this);
        } catch (e) {
          if (!this.exited) {
            this.exited = true;
            this._resolveExitPromise();
          }
          throw e;
        }
      };
    }

    function stopEngine() {
      if (engine) engine.then((call) => call('stop', '{}', null)).catch(() => {});
    }

    // A Go instance that exited (a panic, or stopEngine) is replaced; its requests are aborted, and
    // calls it held are rejected, not lost silently. One that failed to start has told its callers.
    function engineExited(current, io) {
      io.stop();
      if (engine !== current) return;
      engine = null;
      engineDB = null;
      acks.clear(); // the next engine announces its final updates again
      for (const p of pending) p.reject(transientError('The background fetch engine stopped; try again.'));
      pending.clear();
      restarts++;
      // Asked again when the time comes: unregister()'s message may arrive after the database's deletion.
      setTimeout(() => { if (!retired) startEngine(); }, Math.min(30000, 50 * 2 ** restarts));
    }

    // acknowledged resolves once every client known to run bgfetch (and with everyWindow, before
    // the roll call has been answered, every window: bridge/notify.go) has acknowledged the final
    // update of uniqueId, having pinned its records, or after ms. Acknowledgements carry the sender,
    // so one from a client nobody waits for never stands in for another's.
    function acknowledged(uniqueId, everyWindow, ms) {
      let got = acks.get(uniqueId);
      if (!got) acks.set(uniqueId, got = new Set());
      const open = g.clients ? g.clients.matchAll({ type: 'all', includeUncontrolled: true }) : Promise.resolve([]);
      return open.then((list) => {
        const ids = new Set(list.map((c) => c.id));
        for (const id of callers) if (!ids.has(id)) callers.delete(id); // closed since
        return list;
      }, () => []).then((list) => new Promise((resolve) => {
        const windows = everyWindow ? list.filter((c) => c.type === 'window').map((c) => c.id) : [];
        const done = () => {
          clearTimeout(timer);
          ackChecks.delete(check);
          if (acks.get(uniqueId) === got) acks.delete(uniqueId);
          resolve();
        };
        const check = () => { // callers may grow meanwhile: a page that just learnt of this engine says so first
          if (windows.every((id) => got.has(id)) && [...callers].every((id) => got.has(id))) done();
        };
        const timer = setTimeout(done, ms);
        ackChecks.add(check);
        check();
      }));
    }

    function unregistered() {
      return new TypeError('The service worker registration has been unregistered.');
    }

    // unregister() (js/35-unregister.js) says 'retired' and waits for the answer before it deletes the
    // database; it says 'kept' if the browser's unregister then fails, and so does a register() that
    // keeps this worker's registration. The worker deletes the database too, for an unregister() that
    // gave up waiting while this worker started (its early open came after).
    function retirement(op) {
      if (op === 'retired' && !retired) {
        retired = true;
        g.indexedDB.deleteDatabase(database); // the engine lets go of it (openStore) and is not restarted
      } else if (op === 'kept' && retired) {
        retired = false;
        if (!engine && !notYetActive()) startEngine().catch(() => {}); // a new version's waits for its activation
      }
    }

    function engineCall(op, argsJSON, bodies) {
      if (retired) return Promise.reject(unregistered());
      return startEngine().then((call) => new Promise((resolve, reject) => {
        const entry = { reject };
        pending.add(entry);
        let result;
        try {
          result = call(op, argsJSON, bodies || null);
        } catch (e) { // the instance has exited; engineExited is about to replace it
          pending.delete(entry);
          reject(transientError('The background fetch engine stopped; try again.'));
          return;
        }
        result.then(
          (v) => { pending.delete(entry); resolve(v); },
          (e) => { pending.delete(entry); reject(toError(e)); });
      }));
    }

    g.addEventListener('message', (event) => {
      const m = event.data && event.data.__bgfetch;
      if (!m || typeof m !== 'object') return;
      event.stopImmediatePropagation(); // the application's own handlers never see bgfetch traffic
      const sender = event.source && event.source.id;
      if (sender) callers.add(sender);
      if (m.op === 'here') return; // the answer to the engine's roll call
      if (m.op === 'ack') { // a client applied a final update and pinned its records
        const got = acks.get(m.uniqueId);
        if (got && sender) got.add(sender);
        for (const check of [...ackChecks]) check();
        return;
      }
      const port = event.ports && event.ports[0];
      if (m.op === 'stop') { // the worker's own, for a database deleted under the engine
        if (port) port.postMessage({ error: plainError(new TypeError('Unknown operation.')) });
        return;
      }
      if (m.op === 'retired' || m.op === 'kept') {
        retirement(m.op);
        if (port) port.postMessage({ result: true }); // unregister() deletes the database after this
        return;
      }
      const call = engineCall(m.op, m.args, m.bodies);
      const reply = call.then((result) => port && port.postMessage({ result }),
        (e) => port && port.postMessage({ error: plainError(e) }));
      const hold = m.op === 'ping' ? call.then((r) => (r && r.active ? delay(KEEPALIVE_HOLD) : null), () => null) : null;
      event.waitUntil(Promise.all([reply, hold]));
    });

    installManager(() => client);
    installEvents();

    // A new engine (the last one exited) finishing a fetch whose event still runs in this worker
    // waits for that event instead of sending a second one to the same handlers. Without a type
    // (an event cut short too often: wasm/core/complete.go) it only waits for one still running.
    function dispatchCompletion(type, snap, ms) {
      let p = dispatching.get(snap.uniqueId);
      if (!p && type) {
        p = dispatchEvent(type, snap, ms).finally(() => dispatching.delete(snap.uniqueId));
        dispatching.set(snap.uniqueId, p);
      }
      return p || Promise.resolve();
    }

    // After ms the event ends, whatever its waitUntil promises wait for: the engine deletes its
    // records then (bridge/notify.go), so updateUI() and waitUntil() must no longer take calls.
    async function dispatchEvent(type, snap, ms) {
      const registration = client.instanceFor(snap);
      const Ctor = type === 'backgroundfetchabort' ? g.BackgroundFetchEvent : g.BackgroundFetchUpdateUIEvent;
      const event = new Ctor(type, { registration });
      const es = eventStates.get(event);
      es.dispatching = true;
      try {
        g.dispatchEvent(event);
      } finally {
        es.dispatching = false;
        settleCheck(es);
      }
      if (!isActive(es)) return;
      const limit = ms > 0 && setTimeout(() => { es.ended = true; settleCheck(es); }, ms);
      await new Promise((resolve) => es.waiters.push(resolve));
      clearTimeout(limit);
    }

    // Recover stored fetches at every worker start, unless another version is the active one.
    if (!notYetActive()) startEngine().catch((e) => console.error(e));
  }
