  // Reading stored segments: pages and the worker read IndexedDB directly, so bytes never
  // travel through messages. The engine creates the database before any reader sees its name.
  const databases = new Map();

  function openDatabase(name) {
    if (!databases.has(name)) {
      databases.set(name, new Promise((resolve, reject) => {
        const req = indexedDB.open(name);
        req.onupgradeneeded = () => req.transaction.abort(); // never create it from here
        req.onsuccess = () => {
          const db = req.result;
          db.onversionchange = () => { db.close(); databases.delete(name); };
          db.onclose = () => databases.delete(name); // closed by the browser (site data cleared)
          resolve(db);
        };
        req.onerror = () => { databases.delete(name); reject(new TypeError('The stored response is not available.')); };
      }));
    }
    return databases.get(name);
  }

  async function storedValue(dbName, store, key) {
    const db = await openDatabase(dbName);
    return new Promise((resolve, reject) => {
      const req = db.transaction(store, 'readonly').objectStore(store).get(key);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  // Segment values of each record view, in one transaction: Blobs, or the bytes of a small body. A
  // Blob read from IndexedDB stays readable after its entry is deleted, so pinned records outlive the
  // stored fetch.
  async function segmentHandles(dbName, views) {
    const db = await openDatabase(dbName);
    return new Promise((resolve, reject) => {
      const tx = db.transaction('segments', 'readonly');
      const store = tx.objectStore('segments');
      const out = views.map(() => null);
      views.forEach((v, i) => {
        const range = IDBKeyRange.bound([v.uniqueId, v.index, v.generation, 0], [v.uniqueId, v.index, v.generation, Infinity]);
        const req = store.getAll(range);
        req.onsuccess = () => { out[i] = req.result; };
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
