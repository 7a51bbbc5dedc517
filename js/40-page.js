  // Pages (and dedicated workers) are clients: calls go to the active worker over postMessage,
  // updates come back on the registration's BroadcastChannel.
  const CALL_TIMEOUT = 60000;
  const WAIT_TIMEOUT = 15000;
  const KEEPALIVE_EVERY = 10000;

  // activeWorkerCall makes a call to the engine of registration's active worker, over postMessage.
  function activeWorkerCall(registration, op, args, bodies) {
    return new Promise((resolve, reject) => {
      const worker = registration.active;
      if (!worker) { reject(new TypeError('The service worker registration has no active worker.')); return; }
      const { port1, port2 } = new MessageChannel();
      // A worker stopped while it held the call never answers: waitRecord, answered within 10 s
      // (bridge.maxWait), gives up sooner so a reader can ask the restarted worker again.
      const timer = setTimeout(() => {
        port1.close();
        reject(transientError('The service worker did not answer; it must importScripts bgfetch.js first.'));
      }, op === 'waitRecord' ? WAIT_TIMEOUT : CALL_TIMEOUT);
      port1.onmessage = (e) => {
        clearTimeout(timer);
        port1.close();
        if (e.data && e.data.error) reject(toError(e.data.error)); else resolve(e.data.result);
      };
      worker.postMessage({ __bgfetch: { op, args: JSON.stringify(args), bodies: bodies || null } }, [port2]);
    });
  }

  function installPage() {
    const clients = new Map(); // scope → Client

    function clientFor(registration) {
      let c = clients.get(registration.scope);
      if (c) {
        c.registration = registration;
        return c;
      }
      c = new Client(registration, null);
      c.transport = pageTransport(c);
      c.onactive = () => keepAlive(c);
      // The engine waits for the acknowledgements of the clients it knows run bgfetch: the callers,
      // and those that tell it they are here (at its roll call, or at its first update they hear).
      const tell = (msg) => { if (c.registration.active) c.registration.active.postMessage({ __bgfetch: msg }); };
      const channel = new BroadcastChannel(channelName(registration.scope));
      channel.onmessage = (e) => {
        const d = e.data;
        if (d && d.bgfetch === 'unregistered') { // by another realm: the stored data is gone
          c.ended();
          dropOrphan(c.registration);
          return;
        }
        if (d && d.bgfetch === 'rollcall') {
          tell({ op: 'here' });
          c.reconcile();
          return;
        }
        if (!d || d.bgfetch !== 'update') return;
        if (d.snapshot.epoch !== c.epoch) { // an engine this page may never have called
          c.epoch = d.snapshot.epoch;
          tell({ op: 'here' });
        }
        const settled = c.update(d.snapshot);
        if (d.snapshot.result) {
          const ack = () => tell({ op: 'ack', uniqueId: d.snapshot.uniqueId });
          if (d.snapshot.recordsAvailable) settled.then(ack, ack);
        } else {
          keepAlive(c);
        }
      };
      clients.set(registration.scope, c);
      return c;
    }

    // The database of a scope the browser no longer registers belongs to no engine. One left by an
    // unregister() that could not finish (its page left, and the browser stopped the worker before it
    // deleted it) is deleted by a page that hears of it, once the registration's workers are gone: one
    // woken to be retired may have created it again as it started.
    function dropOrphan(reg) {
      const sw = g.navigator.serviceWorker;
      if (!sw || !g.indexedDB) return;
      const gone = (w) => new Promise((resolve) => {
        if (w.state === 'redundant') resolve();
        w.addEventListener('statechange', () => { if (w.state === 'redundant') resolve(); });
        setTimeout(resolve, 1000); // a kept registration's workers stay: getRegistration() tells
      });
      Promise.all(workersOf(reg).map(gone))
        .then(() => delay(500)) // the browser's stop of a worker still starting
        .then(() => sw.getRegistration(reg.scope))
        .then((r) => { if (!r || r.scope !== reg.scope) indexedDB.deleteDatabase(databaseName(reg.scope)); }, () => {});
    }

    function pageTransport(c) {
      return (op, args, bodies) => activeWorkerCall(c.registration, op, args, bodies);
    }

    // Short periodic messages keep the worker running while its fetches are active. A ping that the
    // engine's restart cut short says nothing about the fetches: only a few in a row stop the pings.
    function keepAlive(c) {
      if (c.keepalive) return;
      let failed = 0;
      const stop = () => { clearInterval(c.keepalive); c.keepalive = null; };
      c.keepalive = setInterval(() => {
        c.call('ping', {}).then((r) => { failed = 0; if (!r || !r.active) stop(); },
          (e) => { if (!e || !e.transient || ++failed >= 3) stop(); });
      }, KEEPALIVE_EVERY);
    }

    installManager(clientFor);

    // Wake the workers that hold fetches, so they resume, and keep them alive. A worker whose
    // database holds no fetch is left alone: waking it would start its engine for nothing. Again
    // when the network comes back: pings that failed meanwhile (an engine that could not start) end.
    const container = g.navigator && g.navigator.serviceWorker;
    if (!container) return;
    const wake = () => {
      const stored = g.indexedDB && indexedDB.databases ? indexedDB.databases().then((dbs) => new Set(dbs.map((d) => d.name)), () => null) : Promise.resolve(null);
      Promise.all([container.getRegistrations(), stored]).then(([regs, names]) => {
        const scopes = new Set(regs.map((r) => r.scope));
        for (const name of names || []) { // and so is one whose registration went another way
          if (name.startsWith(DATABASE_PREFIX) && !scopes.has(name.slice(DATABASE_PREFIX.length))) indexedDB.deleteDatabase(name);
        }
        for (const reg of regs) {
          if (!reg.active || (names && !names.has(databaseName(reg.scope)))) continue;
          const c = clientFor(reg); // hears updates, so a fetch started elsewhere is kept alive too
          holdsFetches(databaseName(reg.scope)).then((some) => {
            if (some) c.call('ping', {}).then((r) => { if (r && r.active) keepAlive(c); }, (e) => { if (e && e.transient) keepAlive(c); });
          });
        }
      }, () => {});
    };
    wake();
    g.addEventListener('online', wake);
  }

  // holdsFetches reports whether the engine's database stores any fetch (active, or with its event
  // still to settle). A database that cannot be opened holds none; one that cannot be read may.
  // Its own connection, closed at once: a cached one left open by a page that is going away (an
  // unregister() then a navigation) would hold up the database's deletion until the page is freed.
  function holdsFetches(name) {
    return openExisting(name).then((db) => new Promise((resolve) => {
      const req = db.transaction('fetches', 'readonly').objectStore('fetches').count();
      req.onsuccess = () => resolve(req.result > 0);
      req.onerror = () => resolve(true);
    }).finally(() => db.close())).then((some) => some, (e) => !(e instanceof TypeError));
  }
