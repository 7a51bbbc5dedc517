  class BackgroundFetchRegistration extends EventTarget {
    constructor(token) {
      illegalConstructor(token);
      super();
    }

    async abort() {
      const s = state(this, BackgroundFetchRegistration);
      return s.client.call('abort', { uniqueId: s.uniqueId });
    }

    async match(request, options = {}) {
      if (arguments.length < 1) throw new TypeError("Failed to execute 'match': 1 argument required.");
      // The argument is required: undefined is the URL "undefined", not "every record" as in matchAll.
      const records = await this.matchAll(request === undefined ? 'undefined' : request, options);
      return records[0];
    }

    async matchAll(request = undefined, options = {}) {
      const s = state(this, BackgroundFetchRegistration);
      if (!s.recordsAvailable) {
        throw recordsGone();
      }
      let query = null;
      if (request !== undefined) {
        const r = request instanceof Request ? request : new Request(request);
        query = { url: r.url, method: r.method, headers: [...r.headers] };
      }
      const opts = options || {};
      const matched = s.client.call('matchAll', {
        uniqueId: s.uniqueId, request: query,
        options: { ignoreSearch: !!opts.ignoreSearch, ignoreMethod: !!opts.ignoreMethod, ignoreVary: !!opts.ignoreVary },
      }).then((res) => createRecords(s.client, res.db, res.records));
      return s.client.whileMatching(s.uniqueId, matched);
    }

    get onprogress() {
      state(this, BackgroundFetchRegistration);
      return handlerOf(this, 'progress');
    }

    set onprogress(fn) {
      state(this, BackgroundFetchRegistration);
      eventHandler(this, 'progress', fn);
    }
  }
  idlInterface(BackgroundFetchRegistration, 'BackgroundFetchRegistration',
    ['id', 'uploadTotal', 'uploaded', 'downloadTotal', 'downloaded', 'result', 'failureReason', 'recordsAvailable']);
  noConstructor(BackgroundFetchRegistration);

  class BackgroundFetchRecord {
    constructor(token) { illegalConstructor(token); }
    get responseReady() {
      const s = internals.get(this); // a Promise attribute rejects on a wrong this (WebIDL), it does not throw
      if (!s || !(this instanceof BackgroundFetchRecord)) return Promise.reject(new TypeError('Illegal invocation'));
      if (!s.responseReady) s.responseReady = responseFor(s.stored);
      return s.responseReady;
    }
  }
  idlInterface(BackgroundFetchRecord, 'BackgroundFetchRecord', ['request']);
  noConstructor(BackgroundFetchRecord);

  // The stored response of one record, as one realm reads it. Once the record has settled its
  // segments are pinned: their handles keep the bytes readable after the fetch's data is deleted.
  class StoredRecord {
    constructor(client, db, view) {
      Object.assign(this, { client, db, view, pinned: null });
    }

    // refresh waits for the record to change. A worker stopped meanwhile restarts and resumes the
    // download, so a transient failure is asked again (a few times, not forever). Another refresh
    // (the final update's, which pins the record) may move the view on first: the later view stands.
    async refresh() {
      const seen = this.view;
      for (let tries = 1; ; tries++) {
        try {
          this.adopt(seen, await this.client.call('waitRecord', seen));
          return;
        } catch (e) {
          if (this.view !== seen) return;
          if (!e || !e.transient || tries >= 4) throw e;
        }
      }
    }

    // current brings the view up to date without waiting: the engine answers a view no record has
    // (generation -1) at once. A body restarted since matchAll() must be read from its new start.
    async current() {
      const seen = this.view;
      this.adopt(seen, await this.client.call('waitRecord', Object.assign({}, seen, { generation: -1 })).catch(() => seen));
    }

    // adopt takes v, an answer to a call made when the view was seen, unless a later view came first.
    adopt(seen, v) {
      if (this.view === seen || newerView(v, this.view)) this.view = v;
    }

    async segment(seq) {
      const v = this.view;
      const value = this.pinned ? this.pinned[seq] : await storedValue(this.db, 'segments', [v.uniqueId, v.index, v.generation, seq]);
      return value === undefined ? undefined : segmentBytes(value);
    }
  }

  // newerView reports whether record view a is later than b: the engine's views only move on
  // (a new generation, more segments, a response, a result), while answers may arrive out of order.
  function newerView(a, b) {
    if (a.generation !== b.generation) return a.generation > b.generation;
    return a.segments > b.segments || (!!a.result && !b.result) || (!!a.response && !b.response);
  }

  // Pins settled records in one transaction; a record whose segments are not all there stays unpinned.
  async function pin(db, stored) {
    const settled = stored.filter((r) => r.view.result && !r.pinned);
    if (settled.length === 0) return;
    const handles = await segmentHandles(db, settled.map((r) => r.view)).catch(() => []);
    settled.forEach((r, i) => {
      if (handles[i] && handles[i].length === r.view.segments) r.pinned = handles[i];
    });
  }

  // Pins records of a settled fetch once each has its final view.
  function pinSettled(list) {
    return Promise.all(list.map((r) => (r.view.result ? null : r.refresh().catch(() => null))))
      .then(() => pin(list[0].db, list)).catch(() => {});
  }

  async function createRecords(client, db, views) {
    const stored = views.map((view) => new StoredRecord(client, db, view));
    // Tracked before the pin's await: a final update arriving meanwhile pins them with the rest.
    const pinning = stored.filter((r) => !r.view.result).map((r) => client.track(r));
    await Promise.all([pin(db, stored), ...pinning]);
    // A settled record that could not be pinned has had its data deleted (the event ended meanwhile).
    if (stored.some((r) => r.view.result && !r.pinned)) {
      throw recordsGone();
    }
    return Promise.all(stored.map(async (r) => {
      const record = new BackgroundFetchRecord(KEY);
      internals.set(record, { request: await storedRequest(db, r.view), stored: r, responseReady: null });
      return record;
    }));
  }

  async function storedRequest(db, view) {
    const r = view.request;
    const init = { method: r.method, headers: r.headers, credentials: r.credentials || undefined,
      redirect: r.redirect || undefined, referrerPolicy: r.referrerPolicy || undefined, integrity: r.integrity || undefined };
    if (r.mode === 'cors' || r.mode === 'same-origin') init.mode = r.mode;
    if (r.cache && r.cache !== 'only-if-cached') init.cache = r.cache;
    if (r.hasBody) {
      init.body = await storedValue(db, 'bodies', [view.uniqueId, view.index]);
      if (init.body === undefined) throw recordsGone(); // deleted since the pin: never a request without its body
    }
    return new Request(r.url, init);
  }

  // responseReady: resolves once the record's response headers are stored (SPEC §3.8).
  async function responseFor(stored) {
    if (!stored.view.result) await stored.current();
    while (!stored.view.response && !stored.view.result) await stored.refresh();
    const v = stored.view;
    if (!v.response || !v.exposed) throw unavailable(v.result);
    const r = v.response;
    const nullBody = [204, 205, 304].includes(r.status);
    const response = new Response(nullBody ? null : bodyStream(stored), {
      status: r.status, statusText: r.statusText, headers: r.headers,
    });
    return withFields(response, r);
  }

  // A Response made in JS has no url, type or redirected of its own: the stored ones are given to
  // it, and to its clones (cache.put(request, response.clone()) is the common use).
  function withFields(response, r) {
    const clone = response.clone;
    return Object.defineProperties(response, {
      url: { value: r.url, configurable: true },
      redirected: { value: r.redirected, configurable: true },
      type: { value: r.type || 'basic', configurable: true },
      clone: { value: function () { return withFields(clone.call(this), r); }, configurable: true, writable: true },
    });
  }

  // sameResponse tells whether b is response a again, as the engine decides it (sameResponse in
  // wasm/core): the same status, and no validator that both carry differs.
  function sameResponse(a, b) {
    const h = (r, name) => (r.headers.find(([k]) => k.toLowerCase() === name) || [])[1] || '';
    return a.status === b.status && ['etag', 'last-modified'].every((n) => !h(a, n) || !h(b, n) || h(a, n) === h(b, n));
  }

  function recordsGone() {
    return new DOMException('The records associated with this background fetch are no longer available.', 'InvalidStateError');
  }

  function unavailable(result) {
    return result === 'aborted'
      ? new DOMException('The background fetch was aborted.', 'AbortError')
      : new TypeError('The response is not available.');
  }

  // A body that reads the stored segments in order and waits for more while the record downloads.
  // Another generation, or another response (status, validators: one seen before a stop, whose head
  // was never stored), is another body: the read fails rather than mix two responses.
  function bodyStream(stored) {
    const generation = stored.view.generation;
    const head = stored.view.response;
    let seq = 0;
    return new ReadableStream({
      async pull(controller) {
        for (;;) {
          const v = stored.view;
          if (v.generation !== generation || (v.response && head && !sameResponse(head, v.response))) {
            controller.error(new TypeError('The response restarted from the beginning.'));
            return;
          }
          if (seq < v.segments) {
            const bytes = await stored.segment(seq);
            if (bytes === undefined) { controller.error(new TypeError('The response is not available.')); return; }
            seq++;
            controller.enqueue(bytes);
            return;
          }
          if (v.result) {
            if (v.exposed) controller.close(); else controller.error(unavailable(v.result));
            return;
          }
          await stored.refresh();
        }
      },
    }, { highWaterMark: 0 }); // pulled only when read: an unread body holds no segment in memory
  }
