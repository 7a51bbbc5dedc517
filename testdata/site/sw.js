// Test service worker: bgfetch first (unless ?native=1), then handlers that report every record.
self.BGFETCH_CONFIG = { debug: true }; // enables the test-only 'crash' operation
if (!self.location.search.includes('native=1')) importScripts('/dist/bgfetch.js');

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

async function sha256(buf) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function report(event) {
  const reg = event.registration;
  const records = await reg.matchAll();
  const out = [];
  for (const rec of records) {
    const item = { url: rec.request.url, method: rec.request.method };
    try {
      const res = await rec.responseReady;
      const body = await res.arrayBuffer();
      Object.assign(item, { status: res.status, size: body.byteLength, sha256: await sha256(body),
        contentLength: res.headers.get('content-length'), type: res.type, responseURL: res.url });
    } catch (e) {
      item.error = e.name;
    }
    out.push(item);
  }
  const msg = { type: 'bgfetch-event', event: event.type, id: reg.id, result: reg.result,
    failureReason: reg.failureReason, downloaded: reg.downloaded, recordsAvailable: reg.recordsAvailable,
    isUpdateUI: typeof event.updateUI === 'function', records: out };
  const clients = await self.clients.matchAll({ includeUncontrolled: true, type: 'window' });
  for (const c of clients) c.postMessage(msg);
}

// One handler through addEventListener, the other through the event handler attribute.
self.addEventListener('backgroundfetchsuccess', (event) => event.waitUntil(report(event)));
self.onbackgroundfetchfail = (event) => event.waitUntil(report(event));
self.addEventListener('backgroundfetchabort', (event) => event.waitUntil(report(event)));
