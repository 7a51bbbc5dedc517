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
