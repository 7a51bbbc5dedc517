  // Unregistering ends the registration's fetches, as in Chromium: the worker is told first
  // ('retired', while it can still be reached), so it neither starts its engine again nor takes new
  // calls; then its engine's database is deleted while the worker still runs, so the engine fails
  // every fetch not yet settled with fetch-error in every realm (js/60-worker.js) before the worker
  // goes; then the browser unregisters. If that fails, 'kept' undoes the retirement. ended(reg) fails
  // this realm's registrations of reg's unsettled fetches.
  function installUnregister(ended) {
    // Other realms' clients of the scope (tabs, frames) end theirs too: the engine that would have
    // told them may not have started before the database went (a stopped worker, woken to be retired).
    const endedElsewhere = (scope) => {
      if (typeof BroadcastChannel !== 'function') return;
      const c = new BroadcastChannel(channelName(scope));
      c.postMessage({ bgfetch: 'unregistered' });
      setTimeout(() => c.close(), 1000);
    };
    // The module kept for offline starts goes with the origin's last registration (a page can tell).
    const forgetModule = () => {
      const c = g.navigator.serviceWorker;
      if (g.caches && c && typeof c.getRegistrations === 'function') { // windows only
        c.getRegistrations().then((l) => l.length || g.caches.delete(MODULE_CACHE)).catch(() => {});
      }
    };
    // Each worker answers once it has stopped opening the database (waited for at most a second); a
    // worker may be this one: it receives its own message. One that runs an older bgfetch.js answers
    // with an error, and gets the message as that version expects it. A redundant worker throws.
    const tell = (workers, op) => Promise.all(workers.map((w) => new Promise((resolve) => {
      const { port1, port2 } = new MessageChannel();
      w.postMessage({ __bgfetch: { op } }, [port2]);
      const timer = setTimeout(resolve, 1000);
      port1.onmessage = (e) => {
        clearTimeout(timer);
        port1.close();
        if (e.data && e.data.error) w.postMessage({ __bgfetch: { op } });
        resolve();
      };
    }).catch(() => {})));
    // A registration registered again before the browser removed it (a page it controls kept it) is
    // kept, with the same worker: register() tells that worker 'kept', so it takes calls again. Only a
    // worker this realm retired is told, so a page load's register() does not wake a stopped worker.
    const retiredWorkers = new WeakSet();
    if (typeof ServiceWorkerContainer === 'function') {
      const register = ServiceWorkerContainer.prototype.register;
      Object.defineProperty(ServiceWorkerContainer.prototype, 'register', {
        enumerable: true, configurable: true, writable: true,
        value: { register(scriptURL) { // one named argument: length 1, as in WebIDL
          return register.apply(this, arguments).then((reg) => {
            const kept = workersOf(reg).filter((w) => retiredWorkers.delete(w));
            if (kept.length) tell(kept, 'kept');
            return reg;
          });
        } }.register,
      });
    }
    const unregister = ServiceWorkerRegistration.prototype.unregister;
    Object.defineProperty(ServiceWorkerRegistration.prototype, 'unregister', {
      enumerable: true, configurable: true, writable: true,
      value: { unregister() {
        let native = null;
        const unregisterNow = () => native || (native = unregister.call(this));
        let drop = null; // the database's deletion, once asked (waited for at most a second)
        const deleteDatabase = (name) => drop || (drop = new Promise((resolve) => {
          const req = g.indexedDB.deleteDatabase(name);
          req.onsuccess = req.onerror = req.onblocked = resolve;
          setTimeout(resolve, 1000);
        }).catch(() => {}));
        let workers = [];
        let leaving = null;
        let deleted = null;
        try {
          if (g.indexedDB && this instanceof ServiceWorkerRegistration) {
            workers = workersOf(this);
            // A stopped worker the message wakes opens (creates) the database as it starts: deleted
            // only after its answer, or the browser may stop it, as redundant, with the database made.
            const name = databaseName(this.scope);
            deleted = tell(workers, 'retired').then(() => deleteDatabase(name));
            // A page that leaves meanwhile (unregister(), then location.reload()) unregisters at once, as
            // the browser's own unregister() would have, and tells the other pages now: it will not see
            // the answer. The told worker, and pages (js/40-page.js), delete the database: a deletion
            // asked by a page being unloaded may be left pending, holding up every later open of it.
            if (isWindow) {
              leaving = () => { unregisterNow(); endedElsewhere(this.scope); };
              g.addEventListener('pagehide', leaving);
            }
          }
        } catch (e) { /* no IndexedDB here, or not a registration: unregister as the browser does */ }
        const left = () => { if (leaving) g.removeEventListener('pagehide', leaving); };
        const done = deleted ? deleted.then(unregisterNow) : unregisterNow();
        return done.then((ok) => {
          // false: unregistered already (by another page, say), the database gone all the same.
          left();
          for (const w of workers) retiredWorkers.add(w);
          ended(this);
          endedElsewhere(this.scope);
          forgetModule();
          return ok;
        }, (e) => {
          left();
          tell(workers, 'kept');
          throw e;
        });
      } }.unregister,
    });
  }
