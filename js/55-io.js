
  // The engine's database, opened by the worker while the module downloads and compiles, so the
  // open is not on the start-up path. The schema is bridge/idb.go's: version 1, these three stores.
  function openEngineDatabase(name) {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(name, 1);
      req.onupgradeneeded = () => { for (const s of ['fetches', 'bodies', 'segments']) req.result.createObjectStore(s); };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  // The body's length in bytes as it arrives, or -1. Content-Length counts encoded bytes, and only a
  // same-origin response shows whether it is encoded (CORS hides Content-Encoding, not Content-Length).
  function declaredLength(r) {
    const n = r.headers.get('content-length');
    return r.type === 'basic' && n !== null && /^\d+$/.test(n) && !r.headers.has('content-encoding') ? Number(n) : -1;
  }

  // Network I/O for the engine (bridge/fetch.go). Each call does several JS steps, so Go crosses into
  // JS once per response head and once per run of body chunks, not once per property or per chunk.
  // Kept free of the rest of the shim: the bridge's browser tests load this file alone.
  function bodyIO() {
    const fetchFn = self.fetch.bind(self);
    const NOT_YET = {};
    const BATCH = 1 << 20; // the most one read() returns beyond its first chunk
    return {
      // fetch → [the response head as JSON, a body handle for read() or null].
      fetch(url, init) {
        return fetchFn(url, init).then((r) => [JSON.stringify({
          status: r.status, statusText: r.statusText, url: r.url, type: r.type, redirected: r.redirected,
          headers: Array.from(r.headers),
        }), r.body ? { reader: r.body.getReader(), pending: null, left: declaredLength(r) } : null]);
      },
      // read → [chunks, done]: it waits for one chunk, then takes the chunks the stream already holds.
      // A read that would wait is kept for the next call, so no chunk is lost between calls.
      read(body) {
        const chunks = [];
        let size = 0;
        const take = (r) => {
          if (r.done) return [chunks, true];
          chunks.push(r.value);
          size += r.value.byteLength;
          // The last declared byte ends the body: the run reports it without waiting for the close,
          // which is read here and never cancelled, so the connection is kept for the next request.
          if (body.left > 0 && (body.left -= r.value.byteLength) === 0) {
            body.ended = true;
            body.reader.read().catch(() => {});
            return [chunks, true];
          }
          if (size >= BATCH) return [chunks, false];
          const next = body.reader.read();
          const keep = () => { body.pending = next; return [chunks, false]; };
          // A failure after some chunks is kept too: the chunks in hand are delivered first.
          return Promise.race([next, Promise.resolve(NOT_YET)]).then((v) => (v === NOT_YET ? keep() : take(v)), keep);
        };
        const first = body.pending || body.reader.read();
        body.pending = null;
        return first.then(take);
      },
      // settle reports how promise ends to Go's one callback, by the waiter's id (bridge/promise.go).
      settle(promise, id, report) {
        promise.then((v) => { report(id, true, v); }, (e) => { report(id, false, e); });
      },
      // cancel stops the body; a stream that already failed rejects here, with nothing to report.
      cancel(body) {
        if (body.ended) return;
        body.pending = null;
        body.reader.cancel().catch(() => {});
      },
    };
  }
