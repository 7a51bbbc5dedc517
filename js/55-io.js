
  // The engine's object stores (a declaration, not a const: the prelude opens the database early).
  function engineStores() {
    return ['fetches', 'records', 'bodies', 'segments'];
  }

  // The engine's database, opened by the worker while the module downloads and compiles, so the
  // open is not on the start-up path. The schema is bridge/idb.go's: version 2, these four stores
  // (version 1 had no "records"; the engine drops its fetches, whose documents it cannot read).
  function openEngineDatabase(name) {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(name, 2);
      req.onupgradeneeded = () => {
        const db = req.result;
        for (const s of engineStores()) if (!db.objectStoreNames.contains(s)) db.createObjectStore(s);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => console.warn('bgfetch: waiting for an older worker to close ' + name);
    });
  }

  // loadEngineData reads what the engine needs to start, in one transaction begun as soon as the
  // database opens, so it runs while the module compiles: [db, fetch documents, record documents,
  // every uniqueId a store holds data for]. Only the engine writes, so it holds until the engine does.
  function loadEngineData(db) {
    const tx = db.transaction(engineStores(), 'readonly');
    const read = (store, method) => {
      const req = tx.objectStore(store)[method]();
      return () => req.result;
    };
    const fetches = read('fetches', 'getAll');
    const records = read('records', 'getAll');
    const keys = engineStores().map((s) => read(s, 'getAllKeys'));
    return transactionDone(tx).then(() => {
      const ids = new Set();
      for (const k of keys[0]()) ids.add(k);
      for (const all of keys.slice(1)) for (const k of all()) ids.add(k[0]); // keyed [uniqueId, …]
      return [db, fetches(), records(), [...ids]];
    });
  }

  // The body's length in bytes as it arrives, or -1. Content-Length counts encoded bytes, and only a
  // same-origin response shows whether it is encoded (CORS hides Content-Encoding, not Content-Length);
  // a chunked body is as long as its chunks, whatever Content-Length says (core's declaredLength).
  function declaredLength(r) {
    const n = r.headers.get('content-length');
    const plain = !r.headers.has('content-encoding') && !r.headers.has('transfer-encoding');
    return r.type === 'basic' && n !== null && /^\d+$/.test(n) && plain ? Number(n) : -1;
  }

  // transactionDone resolves when tx commits, or rejects with why it did not.
  function transactionDone(tx) {
    return new Promise((resolve, reject) => {
      // A failed request is the error event's target; the transaction's own error is still null then.
      const fail = (e) => reject((e && e.target && e.target.error) || tx.error || new DOMException('The transaction was aborted.', 'AbortError'));
      tx.oncomplete = () => resolve();
      tx.onerror = fail;
      tx.onabort = fail;
    });
  }

  // The engine's writes, as bridge/idb.go flattens them: 0 fetch document (uniqueId, JSON text),
  // 1 segment (uniqueId, record, generation, seq, small, n, n chunks), 2 request body (uniqueId, record,
  // body), 3 delete a fetch with its records, bodies and segments (uniqueId), 4 record document
  // (uniqueId, record, JSON text).
  // A small segment (a whole body the engine keeps out of a Blob: core.Segment.Small) is stored as its
  // bytes, in the database's own rows; anything else is one Blob of its chunks, unless blobs is false
  // (a database that cannot store Blobs: commit()).
  function segmentValue(parts, small, blobs) {
    if (!small && blobs) return new Blob(parts);
    const p = parts[0];
    if (parts.length === 1 && p.byteOffset === 0 && p.byteLength === p.buffer.byteLength) return p; // read whole
    const bytes = new Uint8Array(parts.reduce((n, c) => n + c.byteLength, 0));
    parts.reduce((at, c) => { bytes.set(c, at); return at + c.byteLength; }, 0);
    return bytes;
  }

  // blobsRefused resolves whether db refuses to store a Blob: it puts a tiny one, under a key no fetch
  // has, in a transaction that is then aborted, so nothing is kept.
  function blobsRefused(db) {
    return new Promise((resolve) => {
      const tx = db.transaction(['segments'], 'readwrite');
      const req = tx.objectStore('segments').put(new Blob(['x']), ['', -1, -1, -1]);
      req.onsuccess = () => { resolve(false); tx.abort(); };
      req.onerror = () => resolve(true);
      tx.onabort = () => resolve(false); // aborted for another reason: the first answer stands
    }).catch(() => false);
  }

  // writeOps queues ops in tx and reports whether it stored a Blob.
  function writeOps(tx, ops, blobs) {
    let blob = false;
    const fetches = tx.objectStore('fetches');
    const records = tx.objectStore('records');
    const bodies = tx.objectStore('bodies');
    const segments = tx.objectStore('segments');
    const span = (id) => IDBKeyRange.bound([id], [id, []]); // arrays sort after numbers
    for (let i = 0; i < ops.length;) {
      switch (ops[i]) {
        case 0: fetches.put(ops[i + 2], ops[i + 1]); i += 3; break;
        case 1: {
          const n = ops[i + 6];
          const value = segmentValue(ops.slice(i + 7, i + 7 + n), ops[i + 5], blobs);
          blob = blob || value instanceof Blob;
          const [id, record, generation, seq] = ops.slice(i + 1, i + 5);
          // A body begun again from zero: its earlier generations are never read again (core.Store.Put).
          if (seq === 0 && generation > 0) segments.delete(IDBKeyRange.bound([id, record], [id, record, generation], false, true));
          segments.put(value, [id, record, generation, seq]);
          i += 7 + n;
          break;
        }
        case 2:
          blob = blob || ops[i + 3] instanceof Blob;
          bodies.put(ops[i + 3], [ops[i + 1], ops[i + 2]]);
          i += 4;
          break;
        case 3: {
          const all = span(ops[i + 1]);
          fetches.delete(ops[i + 1]);
          for (const s of [records, bodies, segments]) s.delete(all);
          i += 2;
          break;
        }
        case 4: records.put(ops[i + 3], [ops[i + 1], ops[i + 2]]); i += 4; break;
        default: throw new TypeError('bgfetch: unknown write ' + ops[i]);
      }
    }
    return blob;
  }

  // The response head as lines: status, statusText, url, type, redirected (1 or 0), then each
  // header's name and value. None of them can hold a line break (the Fetch standard forbids it).
  function headText(r) {
    const lines = [r.status, r.statusText, r.url, r.type, r.redirected ? 1 : 0];
    for (const [name, value] of r.headers) lines.push(name, value);
    return lines.join('\n');
  }

  // Network I/O for the engine (bridge/fetch.go). Each call does several JS steps, so Go crosses into
  // JS once per request and once per run of body chunks, not once per property or per chunk.
  // Kept free of the rest of the shim: the bridge's browser tests load this file alone.
  function bodyIO() {
    const fetchFn = self.fetch.bind(self);
    const NOT_YET = {};
    const BATCH = 1 << 20; // the most one read() returns beyond its first chunk
    const live = new Set(); // the AbortControllers of requests whose bodies have not ended, for stop()
    const channels = []; // the instance's BroadcastChannels: their handlers call into it, so stop() closes them
    let stopped = false;
    let blobs = true; // false once the database has refused a Blob (commit())
    // The wait for the network (online()); end() lets it go, resolved or not.
    const network = {
      back: null, check: null, poll: 0,
      end() {
        self.removeEventListener('online', network.check);
        clearInterval(network.poll);
        network.back = null;
      },
    };

    // read → [ended, ...chunks]: it waits for one chunk, then takes the chunks the stream already
    // holds. A read that would wait is kept for the next call, so no chunk is lost between calls.
    function read(body) {
      const run = [false];
      let size = 0;
      const take = (r) => {
        if (r.done) {
          run[0] = true;
          live.delete(body.ctrl);
          return run;
        }
        run.push(r.value);
        size += r.value.byteLength;
        // The last declared byte ends the body: the run reports it without waiting for the close,
        // which is read here and never cancelled, so the connection is kept for the next request.
        if (body.left > 0 && (body.left -= r.value.byteLength) === 0) {
          body.ended = true;
          run[0] = true;
          live.delete(body.ctrl);
          body.reader.read().catch(() => {});
          return run;
        }
        if (size >= BATCH) return run;
        const next = body.reader.read();
        const keep = () => { body.pending = next; return run; };
        // A failure after some chunks is kept too: the chunks in hand are delivered first.
        return Promise.race([next, Promise.resolve(NOT_YET)]).then((v) => (v === NOT_YET ? keep() : take(v)), keep);
      };
      const first = body.pending || body.reader.read();
      body.pending = null;
      return first.then(take, (e) => { live.delete(body.ctrl); throw e; });
    }

    // failedBody is a body handle whose next read() fails with e.
    const failedBody = (e) => ({ reader: { read: () => Promise.reject(e), cancel: () => Promise.resolve() }, pending: null, left: -1 });

    return {
      // fetch → [the response head (headText), a body handle for read() or null, then the body's
      // first run as read() gives it], so a small body costs Go one await. init is the RequestInit
      // as JSON; the promise carries abort(), which aborts the request and its body. A body that
      // declares at most whole bytes comes as one Uint8Array, which the browser read.
      fetch(url, init, body, whole) {
        const ctrl = new AbortController();
        live.add(ctrl);
        const options = JSON.parse(init);
        options.signal = ctrl.signal;
        if (body != null) options.body = body;
        const ended = (v) => { live.delete(ctrl); return v; };
        const p = fetchFn(url, options).then((r) => {
          const head = headText(r);
          if (!r.body) return ended([head, null, true]);
          const n = declaredLength(r);
          if (n >= 0 && n <= whole) { // the browser reads it: no stream reads in JS, one chunk
            // A failure after the head is the next read()'s, as for a stream.
            return r.arrayBuffer().then((b) => ended([head, null, true, new Uint8Array(b)]), (e) => ended([head, failedBody(e), false]));
          }
          const handle = { reader: r.body.getReader(), pending: null, left: n, ctrl };
          return read(handle).then((run) => [head, handle, ...run], (e) => {
            const failed = Promise.reject(e); // the head still counts: the next read() reports the failure
            failed.catch(() => {});
            handle.pending = failed;
            return [head, handle, false];
          });
        }, (e) => { live.delete(ctrl); throw e; });
        p.abort = () => { live.delete(ctrl); ctrl.abort(); };
        return p;
      },
      read,
      // online → null while the browser reports a network connection, else a promise resolved
      // once it reports one, which every waiting record shares. The poll covers a browser that
      // sends workers no online event.
      online() {
        if (self.navigator.onLine !== false) return null;
        if (!network.back) {
          network.back = new Promise((resolve) => {
            network.check = () => {
              if (self.navigator.onLine === false) return;
              network.end();
              resolve();
            };
            network.poll = setInterval(network.check, 1000);
            self.addEventListener('online', network.check);
          });
        }
        return network.back;
      },
      // settle reports how promise ends to Go's one callback, by the waiter's id (bridge/promise.go).
      settle(promise, id, report) {
        // Until stop() runs, a report can still find the instance exited: it has nowhere to go.
        const tell = (ok, v) => {
          if (stopped) return;
          try { report(id, ok, v); } catch (e) { /* "Go program has already exited" */ }
        };
        promise.then((v) => tell(true, v), (e) => tell(false, e));
      },
      // stop is for an instance that has exited: its requests are aborted, so they hold no connection,
      // what they still report is dropped (the instance can no longer take it), and its channels closed:
      // a message would call into the exited instance (an error each time) and keep its memory.
      stop() {
        stopped = true;
        network.end();
        for (const c of live) c.abort();
        live.clear();
        for (const c of channels.splice(0)) c.close();
      },
      // channel opens a BroadcastChannel that lives as long as the instance (until stop()).
      channel(name) {
        const c = new BroadcastChannel(name);
        channels.push(c);
        return c;
      },
      // commit makes ops one readwrite transaction of the engine's database and resolves when it
      // commits. The ops are flat arguments (bridge/idb.go), so Go crosses once per transaction,
      // where building each put, its key and the segment's Blob took a crossing each.
      // WebKit's in-memory databases (private browsing, automation) cannot store a Blob: a transaction
      // that tried fails with UnknownError. If a tiny Blob is refused too, it is written again with the
      // segments as bytes, as are all later ones (readers take either); another UnknownError (a disk
      // failure, say) is the caller's.
      commit(db, ...ops) {
        if (!blobs && ops.some((v) => v instanceof Blob)) { // a request body, kept as a Blob by fetch()
          return Promise.all(ops.map((v) => (v instanceof Blob ? v.arrayBuffer() : v))).then((o) => this.commit(db, ...o));
        }
        const tx = db.transaction(engineStores(), 'readwrite');
        const done = transactionDone(tx);
        let blob = false;
        try {
          blob = writeOps(tx, ops, blobs);
        } catch (e) {
          done.catch(() => {}); // it rejects with the abort: e says why
          tx.abort();
          return Promise.reject(e);
        }
        if (!blob) return done;
        return done.catch((e) => {
          if (stopped || !blobs || !e || e.name !== 'UnknownError') throw e;
          return blobsRefused(db).then((refused) => {
            if (!refused || stopped) throw e;
            blobs = false;
            return this.commit(db, ...ops);
          });
        });
      },
      transactionDone,
      load: loadEngineData,
      // tail → the last n bytes, at most, of a generation's segments up to key ([uniqueId, record,
      // generation, last seq]), as a Uint8Array: read backwards until they hold n bytes.
      tail(db, key, n) {
        const parts = [];
        const range = IDBKeyRange.bound([...key.slice(0, 3), 0], key);
        const req = db.transaction(['segments']).objectStore('segments').openCursor(range, 'prev');
        req.onsuccess = () => {
          const c = req.result;
          if (!c || (!parts.length && c.primaryKey[3] !== key[3])) return; // the last one is missing
          parts.unshift(new Blob([c.value]));
          if (parts.reduce((size, b) => size + b.size, 0) < n) c.continue();
        };
        return transactionDone(req.transaction).then(() => {
          if (!parts.length) throw new DOMException('bgfetch: no segment ' + key, 'NotFoundError');
          return new Blob(parts).slice(-n).arrayBuffer();
        }).then((b) => new Uint8Array(b));
      },
      // announce gives an update ({bgfetch: 'update', snapshot} as JSON) to the worker's own
      // registrations (host.update) and posts it to pages on channel; it returns what update returns.
      announce(host, channel, json) {
        const msg = JSON.parse(json);
        try {
          return host.update(msg.snapshot);
        } finally {
          channel.postMessage(msg);
        }
      },
      // cancel stops the body; a stream that already failed rejects here, with nothing to report.
      cancel(body) {
        if (body.ended) return;
        live.delete(body.ctrl);
        body.pending = null;
        body.reader.cancel().catch(() => {});
      },
    };
  }
