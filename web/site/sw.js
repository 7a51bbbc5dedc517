// Demo service worker: bgfetch first, then store finished downloads in Cache Storage.
importScripts('/dist/bgfetch.js');

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

async function keep(event) {
  const cache = await caches.open('downloads');
  for (const record of await event.registration.matchAll()) {
    try {
      const res = await record.responseReady;
      const body = await res.blob();
      const headers = new Headers(res.headers);
      headers.set('x-bytes', String(body.size));
      await cache.put(record.request, new Response(body, { status: res.status, statusText: res.statusText, headers }));
    } catch (e) {
      console.warn('record not available', record.request.url, e);
    }
  }
  if (event.updateUI) await event.updateUI({ title: event.registration.id + ' finished' });
  for (const c of await self.clients.matchAll({ includeUncontrolled: true })) c.postMessage('downloads-changed');
}

self.addEventListener('backgroundfetchsuccess', (event) => event.waitUntil(keep(event)));
self.addEventListener('backgroundfetchfail', (event) => event.waitUntil(keep(event)));
