// Benchmark service worker: bgfetch (unless ?native=1), completion reports, and the plain-JavaScript
// baseline the issue compares against (fetch + getReader + IndexedDB puts of 4 MiB segments).
const EVALUATED = performance.now(); // before importScripts: start-up is measured from here
self.BGFETCH_CONFIG = { debug: true }; // exposes __bgfetchDebug (wasm memory, engine ready time)
if (!self.location.search.includes('native=1')) importScripts('/dist/bgfetch.js');
const IMPORTED = performance.now();
const SEGMENT = 4 << 20;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

async function post(msg) {
  for (const c of await self.clients.matchAll({ includeUncontrolled: true, type: 'window' })) c.postMessage(msg);
}

function done(event) {
  const reg = event.registration;
  event.waitUntil(post({ type: 'bench-done', id: reg.id, event: event.type, at: Date.now(), downloaded: reg.downloaded }));
}
self.addEventListener('backgroundfetchsuccess', done);
self.addEventListener('backgroundfetchfail', done);
self.addEventListener('backgroundfetchabort', done);

// Peak Go wasm linear memory, sampled while a download runs.
let peak = 0;
let sampler = null;
const wasmBytes = () => (self.__bgfetchDebug && self.__bgfetchDebug.memory ? self.__bgfetchDebug.memory.buffer.byteLength : 0);

// Peak JS heap of this worker (ArrayBuffers included): only Chromium measures it, at its garbage
// collections, and only in a cross-origin isolated worker (the bench serves sw.js with COEP).
const heapMeasurable = typeof performance.measureUserAgentSpecificMemory === 'function';
let heapPeak = 0;
let heapRun = 0; // a measurement still pending from an earlier download is not counted
async function sampleHeap(run) {
  while (run === heapRun) {
    const { bytes } = await performance.measureUserAgentSpecificMemory();
    if (run === heapRun) heapPeak = Math.max(heapPeak, bytes);
  }
}

function openDB() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open('bench-baseline', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('segments');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

// While bench.watched runs, when the engine's writes of one fetch's segments commit:
// [[Date.now(), bytes stored]]. Its writes go through IDBObjectStore.put; a fetch document
// (key uniqueId) is put in the same transaction before its first segment ([uniqueId, …]).
let watch = null;
const idbPut = IDBObjectStore.prototype.put;
IDBObjectStore.prototype.put = function (value, key) {
  const w = watch;
  if (w && this.transaction.db.name.startsWith('bgfetch ')) {
    if (this.name === 'fetches' && !w.uniqueId && JSON.parse(value).id === w.id) w.uniqueId = key;
    if (this.name === 'segments' && key[0] === w.uniqueId) {
      const size = value instanceof Blob ? value.size : value.byteLength; // a small body is stored as bytes
      this.transaction.addEventListener('complete', () => { w.bytes += size; w.log.push([Date.now(), w.bytes]); });
    }
  }
  return idbPut.apply(this, arguments);
};

function put(db, key, value) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction('segments', 'readwrite');
    tx.objectStore('segments').put(value, key);
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
}

function clear(db) {
  return new Promise((resolve) => {
    const tx = db.transaction('segments', 'readwrite');
    tx.objectStore('segments').clear();
    tx.oncomplete = resolve;
  });
}

// What a developer would write by hand: stream each body, store 4 MiB Blob segments.
async function baseline(urls) {
  const db = await openDB();
  const start = performance.now();
  let bytes = 0;
  await Promise.all(urls.map(async (url, i) => {
    const reader = (await fetch(url)).body.getReader();
    let parts = [];
    let size = 0;
    let seq = 0;
    const flush = async () => {
      if (!size) return;
      const blob = new Blob(parts);
      parts = [];
      size = 0;
      await put(db, [i, seq++], blob);
    };
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      parts.push(value);
      size += value.byteLength;
      bytes += value.byteLength;
      if (size >= SEGMENT) await flush();
    }
    await flush();
  }));
  const ms = performance.now() - start;
  await clear(db);
  db.close();
  return { ms, bytes };
}

self.addEventListener('message', (e) => {
  const d = e.data || {};
  const reply = (v) => e.ports[0] && e.ports[0].postMessage(v);
  const work = (async () => {
    switch (d.type) {
      case 'startup': {
        const dbg = self.__bgfetchDebug;
        while (dbg && !dbg.readyAt) await new Promise((r) => setTimeout(r, 5));
        // worker: which evaluation of this script answered, so a restart can be told from a reuse
        return { imported: IMPORTED - EVALUATED, ready: dbg ? dbg.readyAt - EVALUATED : 0, worker: performance.timeOrigin };
      }
      case 'memory-start':
        peak = wasmBytes();
        clearInterval(sampler);
        sampler = setInterval(() => { peak = Math.max(peak, wasmBytes()); }, 20);
        heapPeak = 0;
        if (heapMeasurable) sampleHeap(++heapRun);
        return peak;
      case 'memory-stop':
        clearInterval(sampler);
        heapRun++;
        return { wasm: Math.max(peak, wasmBytes()), heap: heapMeasurable && heapPeak > 0 ? heapPeak : null };
      case 'stored-watch':
        watch = { id: d.id, uniqueId: null, bytes: 0, log: [] };
        return null;
      case 'stored-stop': {
        const { log } = watch;
        watch = null;
        return log;
      }
      case 'baseline':
        return baseline(d.urls);
      default:
        return null;
    }
  })();
  e.waitUntil(work.then(reply, (err) => reply({ error: String(err) })));
});
