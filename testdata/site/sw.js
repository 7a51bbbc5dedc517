// Test service worker: bgfetch first (unless ?native=1), then handlers that report every record.
// A fetch id "<mode>.<rest>" picks what the handler does besides reporting (see modes below).
// debug enables the test-only 'crash' and 'trap' operations; a short stall timeout keeps the stall test quick.
// ?wait=1: a version that does not skip waiting, as most applications' workers do not.
self.BGFETCH_CONFIG = { debug: true, stallTimeout: 3000 };
// A worker of the /limit/ scope ends completion events 1.5 s after their dispatch.
if (self.registration.scope.endsWith('/limit/')) self.BGFETCH_CONFIG.eventLimit = 1500;
// Read by the test-only 'trap' operation: an exception thrown through the Go instance's frames.
Object.defineProperty(self, '__bgfetchTrap', { get() { throw new Error('trap requested by a test'); } });
if (!self.location.search.includes('native=1')) importScripts('/dist/bgfetch.js');

// ?call=1: the install handler calls getIds(), which a waiting version answers from the active worker.
let installCall = 'not made';
self.addEventListener('install', (e) => {
  if (!self.location.search.includes('wait=1')) self.skipWaiting();
  if (self.location.search.includes('call=1')) {
    e.waitUntil(within(self.registration.backgroundFetch.getIds(), 10000).then((ids) => { installCall = ids; }, (err) => { installCall = 'rejected: ' + err; }));
  }
});
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

const held = new Map(); // id → resolve: events held open until the page releases them (once per id)
const kept = new Map(); // id → registration objects this realm got from get()

async function sha256(buf) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function post(msg) {
  const clients = await self.clients.matchAll({ includeUncontrolled: true, type: 'window' });
  for (const c of clients) c.postMessage(msg);
}

// A promise's value, or 'pending' if it has not settled within ms: a hang is reported, not waited for.
const within = (p, ms, pending) => Promise.race([p, new Promise((resolve, reject) => setTimeout(() => (pending instanceof Error
  ? reject(pending) : resolve(pending === undefined ? 'pending' : pending)), ms || 5000))]);
const outcome = (p) => within(Promise.resolve(p).then(() => 'resolved', (e) => 'rejected:' + (e && e.name)));

function attempt(fn) {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return 'threw:' + (e && e.name);
  }
}

// What the handler must do synchronously, per mode; each returns values the report includes.
const modes = {
  'updateui-twice': (event) => ({ first: outcome(event.updateUI({ title: 'one' })), second: outcome(event.updateUI({ title: 'two' })) }),
  'updateui-waituntil': (event) => {
    const later = new Promise((r) => setTimeout(r, 100)).then(() => outcome(event.updateUI({ title: 'later' })));
    event.waitUntil(later);
    return { later };
  },
  'updateui-bad-icon': (event) => ({ icons: outcome(event.updateUI({ icons: [{ sizes: '1x1' }] })) }),
  'event-arguments': (event) => ({
    updateUIOnAbortEvent: outcome(Promise.resolve().then(() => BackgroundFetchUpdateUIEvent.prototype.updateUI.call(
      new BackgroundFetchEvent('backgroundfetchabort', { registration: event.registration })))),
    waitUntilWithoutArgument: attempt(() => event.waitUntil()),
  }),
  // A waitUntil promise that never settles: once past the event's limit, the event is no longer active.
  'outlive': (event) => {
    event.waitUntil(new Promise(() => {}));
    const during = { updateUI: 'not called', recordsAvailable: event.registration.recordsAvailable };
    const after = new Promise((r) => setTimeout(r, 3000)).then(async () => ({
      updateUI: await outcome(event.updateUI({ title: 'late' })),
      waitUntil: attempt(() => event.waitUntil(Promise.resolve())),
      recordsAvailable: event.registration.recordsAvailable,
    }));
    return { during, after };
  },
  'waituntil-nested': (event) => {
    let nested = 'not called';
    event.waitUntil(Promise.resolve().then(() => { nested = attempt(() => event.waitUntil(Promise.resolve())); }));
    return { nested: Promise.resolve().then(() => new Promise((r) => setTimeout(r, 10))).then(() => nested) };
  },
};

// Observations made during every event, from this realm.
async function observe(event) {
  const reg = event.registration;
  const bf = self.registration.backgroundFetch;
  const o = {
    type: event.type,
    isExtendable: event instanceof ExtendableEvent,
    isBackgroundFetchEvent: typeof BackgroundFetchEvent === 'function' && event instanceof BackgroundFetchEvent,
    isUpdateUIEvent: typeof BackgroundFetchUpdateUIEvent === 'function' && event instanceof BackgroundFetchUpdateUIEvent,
    hasUpdateUI: typeof event.updateUI === 'function',
    isTrustedOrPolyfill: event.isTrusted || !!self.__bgfetchLoaded,
    sameAsKept: kept.has(reg.id) ? kept.get(reg.id) === reg : null,
    sameAsTarget: event.registration === event.registration,
  };
  o.recordsAvailableDuring = reg.recordsAvailable;
  o.getDuring = await within(bf.get(reg.id).then((r) => (r === undefined ? 'undefined' : 'found')));
  o.idsDuring = await within(bf.getIds(), 5000, []);
  o.abortDuring = await within(reg.abort());
  o.ctor = attempt(() => {
    const Ctor = event.constructor;
    const copy = new Ctor('x', { registration: reg });
    if (copy.registration !== reg || copy.type !== 'x') throw new Error('wrong event');
  });
  o.ctorWithoutInit = attempt(() => new event.constructor('x'));
  return o;
}

async function report(event, extra) {
  const reg = event.registration;
  const observed = await observe(event);
  for (const [k, v] of Object.entries(extra || {})) observed[k] = await within(v);
  let records = [];
  try {
    records = await within(reg.matchAll(), 10000, []);
  } catch (e) {
    observed.matchAllError = e.name; // expected once the event is no longer active
  }
  const out = [];
  for (const rec of records) {
    const item = { url: rec.request.url, method: rec.request.method, requestContentType: rec.request.headers.get('content-type') };
    item.requestSHA256 = await within(rec.request.arrayBuffer().then(sha256), 10000);
    try {
      const res = await within(rec.responseReady, 30000, new Error('Timeout'));
      const copy = res.clone(); // what cache.put(request, response.clone()) would store
      Object.assign(item, { cloneURL: copy.url, cloneRedirected: copy.redirected, cloneType: copy.type });
      if (copy.body) copy.body.cancel(); // its tee branch would otherwise hold every byte read
      const body = await within(res.arrayBuffer(), 60000, new Error('Timeout'));
      Object.assign(item, { status: res.status, statusText: res.statusText, size: body.byteLength, sha256: await sha256(body),
        contentLength: res.headers.get('content-length'), type: res.type, responseURL: res.url, redirected: res.redirected,
        headers: [...res.headers] });
    } catch (e) {
      item.error = e.name;
    }
    out.push(item);
  }
  return { type: 'bgfetch-event', scope: self.registration.scope, event: event.type, id: reg.id, result: reg.result, failureReason: reg.failureReason,
    downloaded: reg.downloaded, uploaded: reg.uploaded, uploadTotal: reg.uploadTotal, recordsAvailable: reg.recordsAvailable,
    isUpdateUI: typeof event.updateUI === 'function', records: out, observed };
}

function handle(event) {
  const at = performance.timeOrigin + performance.now(); // when the event was dispatched
  const id = event.registration.id;
  const mode = id.split('.')[0];
  if (mode === 'no-waituntil') {
    // The handler returns without waitUntil: afterwards the event is no longer active.
    setTimeout(async () => {
      const late = { updateUI: event.updateUI ? await outcome(event.updateUI({ title: 'late' })) : 'none',
        waitUntil: attempt(() => event.waitUntil(Promise.resolve())) };
      post(Object.assign(await report(event), { late }));
    }, 0);
    return;
  }
  const extra = modes[mode] ? modes[mode](event) : {};
  let hold = Promise.resolve();
  if (mode === 'hold' && !held.has(id)) {
    hold = new Promise((resolve) => {
      held.set(id, resolve);
      setTimeout(resolve, 20000);
      post({ type: 'bgfetch-hold', id });
    });
  }
  event.waitUntil(hold.then(() => report(event, extra)).then((r) => post(Object.assign(r, { at }))));
}

// Errors in this worker reach the pages, so a missing report names its cause.
self.addEventListener('error', (e) => post({ type: 'sw-error', message: String(e.message || e) }));
self.addEventListener('unhandledrejection', (e) => post({ type: 'sw-error', message: 'unhandled rejection: ' + (e.reason && (e.reason.stack || e.reason)) }));

// One handler through addEventListener, the other through the event handler attribute.
self.addEventListener('backgroundfetchsuccess', handle);
self.onbackgroundfetchfail = handle;
self.addEventListener('backgroundfetchabort', handle);

// Commands from the conformance pages.
self.addEventListener('message', (e) => {
  const d = e.data || {};
  const reply = (v) => e.ports[0] && e.ports[0].postMessage(v);
  if (d.type === 'release') {
    const resolve = held.get(d.id);
    if (resolve) resolve();
  } else if (d.type === 'get') {
    e.waitUntil((async () => {
      const bf = self.registration.backgroundFetch;
      const a = await bf.get(d.id);
      const b = await bf.get(d.id);
      if (a) kept.set(d.id, a);
      reply({ found: !!a, same: a === b });
    })());
  } else if (d.type === 'startedAt') {
    reply(performance.timeOrigin); // when this copy of the worker started
  } else if (d.type === 'onLine') {
    reply(self.navigator.onLine);
  } else if (d.type === 'installCall') {
    reply(installCall);
  } else if (d.type === 'idl') {
    reply(self.describeIDL ? self.describeIDL('serviceworker') : null);
  } else if (d.type === 'unregister') { // the worker unregisters itself, then tries a new fetch
    e.waitUntil((async () => {
      const ok = await self.registration.unregister();
      let after = 'resolved';
      try {
        await self.registration.backgroundFetch.fetch(d.id, d.requests);
      } catch (err) {
        after = err.name;
      }
      reply({ ok, after });
    })());
  }
});

importScripts('/conformance/idl-describe.js');
