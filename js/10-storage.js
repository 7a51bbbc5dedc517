  // Reading stored segments: pages and the worker read IndexedDB directly, so bytes never
  // travel through messages. The engine creates the database before any reader sees its name.
  const databases = new Map();

  function openDatabase(name) {
    if (!databases.has(name)) {
      const opened = openExisting(name).then((db) => {
        db.onversionchange = () => { db.close(); databases.delete(name); };
        db.onclose = () => databases.delete(name); // closed by the browser (site data cleared)
        return db;
      });
      opened.catch(() => databases.delete(name));
      databases.set(name, opened);
    }
    return databases.get(name);
  }

  // openExisting opens a new connection to the engine's database name, never creating it.
  function openExisting(name) {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(name);
      req.onupgradeneeded = () => req.transaction.abort(); // never create it from here
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(new TypeError('The stored response is not available.'));
    });
  }

  // readTransaction begins a read on the cached connection, or on a new one if the browser closed
  // that one meanwhile (another connection's version change), so a read under way goes on.
  async function readTransaction(dbName, stores) {
    for (let tries = 1; ; tries++) {
      const db = await openDatabase(dbName);
      try {
        return db.transaction(stores, 'readonly');
      } catch (e) {
        if (tries > 1 || !e || e.name !== 'InvalidStateError') throw e; // closed: its handlers let go of it
      }
    }
  }

  async function storedValue(dbName, store, key) {
    const tx = await readTransaction(dbName, store);
    return new Promise((resolve, reject) => {
      const req = tx.objectStore(store).get(key);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  // Segment values of each record view, in one transaction: Blobs, or the bytes of a small body. A
  // Blob read from IndexedDB stays readable after its entry is deleted, so pinned records outlive the
  // stored fetch. A larger segment a database kept as bytes (one that refuses Blobs: js/55-io.js
  // commit) is made a Blob as the cursor reads it, so a pinned body is not held in the JS heap.
  async function segmentHandles(dbName, views) {
    const tx = await readTransaction(dbName, 'segments');
    return new Promise((resolve, reject) => {
      const store = tx.objectStore('segments');
      const out = views.map(() => []);
      views.forEach((v, i) => {
        if (!(v.segments > 0)) return;
        // Only the segments the view counts: one stored past them is no part of this body.
        const range = IDBKeyRange.bound([v.uniqueId, v.index, v.generation, 0], [v.uniqueId, v.index, v.generation, v.segments - 1]);
        const req = store.openCursor(range);
        req.onsuccess = () => {
          const c = req.result;
          if (!c) return;
          const value = c.value;
          out[i].push(value instanceof Blob || value.byteLength <= 128 * 1024 ? value : new Blob([value]));
          c.continue();
        };
      });
      tx.oncomplete = () => resolve(out);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new DOMException('aborted', 'AbortError'));
    });
  }

  // Bytes of one stored segment value: a Blob, or bytes (a small body; or any, by an older version).
  async function segmentBytes(value) {
    if (value instanceof Blob) return new Uint8Array(await value.arrayBuffer());
    return value instanceof Uint8Array ? value : new Uint8Array(value);
  }
