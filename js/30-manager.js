  const RECONCILE_AFTER = 1500;
  const RECONCILE_EVERY = 10000;

  // A Client is one realm's view of one service worker registration's fetches.
  class Client {
    constructor(registration, transport) {
      this.registration = registration;
      this.transport = transport;
      this.instances = new Map(); // uniqueId → BackgroundFetchRegistration: one object per fetch per realm
      this.unsettled = new Map(); // uniqueId → StoredRecords to pin when the fetch settles
      this.matching = new Map(); // uniqueId → matchAll() calls in flight, which settling waits for
      this.answering = 0; // fetch() and get() calls in flight: a final update can overtake their answer
      this.early = new Map(); // uniqueId → { snap, resolve }: a final update that came before its answer
      this.onactive = null;
    }

    // answered makes the registration of a fetch() or get() call's answer. A final update of the
    // fetch that came first is applied after the call resolves, in a task of its own, as updates
    // come after the registration (SPEC §3.4); one no answer claims is let go with the last call.
    async answered(call) {
      this.answering++;
      try {
        const snap = await call;
        if (!snap) return undefined;
        const reg = this.instanceFor(snap);
        const early = this.early.get(snap.uniqueId);
        if (early) {
          this.early.delete(snap.uniqueId);
          setTimeout(() => early.resolve(this.update(early.snap)), 0);
        }
        return reg;
      } finally {
        if (--this.answering === 0) {
          for (const e of this.early.values()) e.resolve();
          this.early.clear();
        }
      }
    }

    call(op, args, bodies) {
      return this.transport(op, args, bodies);
    }

    instanceFor(snap) {
      let reg = this.instances.get(snap.uniqueId);
      if (!reg) {
        reg = new BackgroundFetchRegistration(KEY);
        internals.set(reg, Object.assign({ client: this }, snap));
        this.instances.set(snap.uniqueId, reg);
      } else {
        this.update(snap);
      }
      if (!snap.result && this.onactive) this.onactive();
      return reg;
    }

    // track keeps an unsettled record to pin when its fetch settles. The final update can overtake
    // the answer that brought it: then it is pinned at once (the promise), which settle() waits for.
    track(stored) {
      const uid = stored.view.uniqueId;
      const reg = this.instances.get(uid);
      if (reg && internals.get(reg).result !== '') return pinSettled([stored]);
      if (!this.unsettled.has(uid)) this.unsettled.set(uid, new Set());
      this.unsettled.get(uid).add(stored);
      return null;
    }

    // whileMatching returns p, a matchAll() call's records, which settle() waits for.
    whileMatching(uniqueId, p) {
      let calls = this.matching.get(uniqueId);
      if (!calls) this.matching.set(uniqueId, calls = new Set());
      calls.add(p);
      const gone = () => {
        calls.delete(p);
        if (calls.size === 0 && this.matching.get(uniqueId) === calls) this.matching.delete(uniqueId);
      };
      p.then(gone, gone);
      return p;
    }

    // Pins the records this realm holds of a fetch that has settled, those of matchAll() calls
    // still in flight included; the worker deletes the fetch's data only after every realm has
    // answered (or a bounded wait).
    settle(uniqueId) {
      const drain = () => { // calls made meanwhile (by a progress listener, say) count too
        const calls = this.matching.get(uniqueId);
        if (calls && calls.size) return Promise.all([...calls].map((p) => p.catch(() => null))).then(drain);
        const held = this.unsettled.get(uniqueId);
        if (!held) return undefined;
        this.unsettled.delete(uniqueId);
        return pinSettled([...held]);
      };
      return Promise.resolve().then(drain);
    }

    // ended fails every fetch not yet settled: the registration is gone with its stored data.
    ended() {
      for (const [uniqueId, reg] of [...this.instances]) this.lost(uniqueId, internals.get(reg));
    }

    // lost fails one fetch not yet settled whose data is gone: fetch-error, its records unavailable.
    lost(uniqueId, s) {
      if (s.result !== '') return;
      this.update({ uniqueId, downloaded: s.downloaded, uploaded: s.uploaded, result: 'failure',
        failureReason: 'fetch-error', recordsAvailable: false });
    }

    // reconcile fails, as ended() does, this realm's unsettled fetches that a new engine (its roll
    // call) does not hold: their data went while no engine ran (the database deleted, a document it
    // could not read dropped). An engine holds a fetch until its event has settled, so one it holds
    // (aborted or decided, not in get() any more) gets its final update from it. Not again within
    // RECONCILE_EVERY of a check that failed, so an engine that keeps failing to start (after its
    // roll call) is not restarted by every check.
    reconcile() {
      if (Date.now() - (this.checkFailed || -Infinity) < RECONCILE_EVERY) return;
      setTimeout(() => {
        for (const [uniqueId, reg] of [...this.instances]) {
          const s = internals.get(reg);
          if (s.result !== '') continue;
          this.call('holds', { uniqueId }).then((held) => {
            if (held === false) setTimeout(() => this.lost(uniqueId, s), RECONCILE_AFTER); // one from the last engine may be on its way
          }, () => { this.checkFailed = Date.now(); }); // a new engine calls the roll again
        }
      }, RECONCILE_AFTER);
    }

    // Update background fetch instances (SPEC §3.4). Returns a promise for the final update.
    // The result is applied first, so a matchAll() its progress listener makes is waited for.
    update(snap) {
      if (snap.result && this.answering > 0 && !this.instances.has(snap.uniqueId)) {
        const held = this.early.get(snap.uniqueId);
        if (held) held.resolve(); // a later final update (records no longer available) replaces it
        return new Promise((resolve) => this.early.set(snap.uniqueId, { snap, resolve }));
      }
      this.apply(snap);
      return snap.result ? this.settle(snap.uniqueId) : undefined;
    }

    apply(snap) {
      const reg = this.instances.get(snap.uniqueId);
      if (!reg) return;
      const s = internals.get(reg);
      if (!snap.recordsAvailable) {
        s.recordsAvailable = false;
        this.instances.delete(snap.uniqueId);
      }
      if (s.result !== '') return;
      // Answers and updates arrive by different ways: one taken earlier by the same engine can come
      // later, and would move the values back. (A new engine, a restarted worker, starts anew.)
      // The update that carries the result always applies: nothing comes after it.
      if (!snap.result && snap.epoch === s.epoch && snap.seq <= s.seq) return;
      Object.assign(s, { epoch: snap.epoch, seq: snap.seq });
      if (s.downloaded === snap.downloaded && s.uploaded === snap.uploaded &&
          s.result === snap.result && s.failureReason === snap.failureReason) return;
      Object.assign(s, { downloaded: snap.downloaded, uploaded: snap.uploaded, result: snap.result, failureReason: snap.failureReason });
      reg.dispatchEvent(new Event('progress'));
    }
  }

  class BackgroundFetchManager {
    constructor(token) { illegalConstructor(token); }

    async fetch(id, requests, options = {}) {
      const s = state(this, BackgroundFetchManager);
      if (arguments.length < 2) throw new TypeError("Failed to execute 'fetch': 2 arguments required.");
      id = domString(id);
      const list = (typeof requests === 'object' && requests !== null && !(requests instanceof Request) &&
        typeof requests[Symbol.iterator] === 'function') ? [...requests] : [requests];
      // WebIDL converts the arguments before the algorithm runs: the inherited members first.
      const opts = dictionary(options, 'BackgroundFetchOptions');
      const ui = uiOptions(opts);
      const converted = { downloadTotal: unsignedLongLong(opts.downloadTotal), title: ui.title, icons: ui.icons };
      // The spec's synchronous steps (3, 4.2) come before anything, the permission and the worker
      // included; the engine checks the rest, and these again.
      if (list.length === 0) throw new TypeError('At least one request must be given.');
      const serialized = [];
      const bodies = [];
      for (const info of list) {
        const r = new Request(info);
        if (r.mode === 'no-cors') throw new TypeError("Refused to fetch '" + r.url + "' because of the request's mode 'no-cors'.");
        let body = null;
        let size = 0;
        if (r.method !== 'GET' && r.method !== 'HEAD') {
          // A large body stays a Blob, so a file of gigabytes stays in the browser's blob storage, not
          // this heap; a small one is bytes, which Firefox keeps in the database's rows, not in a file.
          const blob = await r.clone().blob();
          size = blob.size;
          if (size > 0) body = size > 128 * 1024 ? blob : await blob.arrayBuffer();
        }
        bodies.push(body);
        serialized.push({
          url: r.url, method: r.method, headers: [...r.headers], mode: r.mode, credentials: r.credentials,
          cache: r.cache, redirect: r.redirect, referrer: r.referrer, referrerPolicy: r.referrerPolicy,
          integrity: r.integrity, bodySize: size, hasBody: !!body,
        });
      }
      if (await permissionDenied()) {
        // The engine checks the rest of the input first (id, scheme, port), as Chromium does; an
        // older engine does not know the call, and the permission decides.
        if (s.client.registration.active) {
          await s.client.call('validate', { id, requests: serialized }).catch((e) => { if (!/^unknown operation/.test(e && e.message)) throw e; });
        }
        throw new DOMException('Background fetch is not allowed for this origin.', 'NotAllowedError');
      }
      if (!s.client.registration.active) throw new TypeError('No active registration available on the ServiceWorkerRegistration.');
      return s.client.answered(s.client.call('fetch', { id, requests: serialized, options: converted }, bodies));
    }

    async get(id) {
      const s = state(this, BackgroundFetchManager);
      if (arguments.length < 1) throw new TypeError("Failed to execute 'get': 1 argument required.");
      id = domString(id);
      if (id === '') throw new TypeError('The provided id is invalid.');
      if (!s.client.registration.active) return undefined;
      return s.client.answered(s.client.call('get', { id }));
    }

    async getIds() {
      const s = state(this, BackgroundFetchManager);
      if (!s.client.registration.active) return [];
      return s.client.call('getIds', {});
    }
  }
  idlInterface(BackgroundFetchManager, 'BackgroundFetchManager');
  noConstructor(BackgroundFetchManager);

  // The "background-fetch" permission, where the browser knows it (SPEC §3.1 step 6.1).
  async function permissionDenied() {
    try {
      const status = await g.navigator.permissions.query({ name: 'background-fetch' });
      return status.state === 'denied';
    } catch (e) {
      return false; // the browser has no such permission: nothing denies it
    }
  }

  // registration.backgroundFetch: one manager per ServiceWorkerRegistration object.
  function installManager(clientFor) {
    const managers = new WeakMap();
    Object.defineProperty(ServiceWorkerRegistration.prototype, 'backgroundFetch', {
      enumerable: true, configurable: true,
      get: function backgroundFetch() {
        if (!(this instanceof ServiceWorkerRegistration)) throw new TypeError('Illegal invocation');
        let m = managers.get(this);
        if (!m) {
          m = new BackgroundFetchManager(KEY);
          internals.set(m, { client: clientFor(this) });
          managers.set(this, m);
        }
        return m;
      },
    });
    // ended fails this realm's registrations of reg's fetches not yet settled, as the engine does once
    // unregistered: a browser may stop the worker before that last update gets out (WebKit did).
    const ended = (reg) => {
      const m = managers.get(reg);
      if (m) internals.get(m).client.ended();
    };
    installUnregister(ended);
    expose('BackgroundFetchManager', BackgroundFetchManager);
    expose('BackgroundFetchRegistration', BackgroundFetchRegistration);
    expose('BackgroundFetchRecord', BackgroundFetchRecord);
  }
