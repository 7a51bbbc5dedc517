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
      const records = await this.matchAll(request, options);
      return records[0];
    }

    async matchAll(request = undefined, options = {}) {
      const s = state(this, BackgroundFetchRegistration);
      if (!s.recordsAvailable) {
        throw new DOMException('The records associated with this background fetch are no longer available.', 'InvalidStateError');
      }
      let query = null;
      if (request !== undefined) {
        const r = request instanceof Request ? request : new Request(request);
        query = { url: r.url, method: r.method, headers: [...r.headers] };
      }
      const opts = options || {};
      const res = await s.client.call('matchAll', {
        uniqueId: s.uniqueId, request: query,
        options: { ignoreSearch: !!opts.ignoreSearch, ignoreMethod: !!opts.ignoreMethod, ignoreVary: !!opts.ignoreVary },
      });
      return Promise.all(res.records.map((view) => createRecord(s.client, res.db, view)));
    }

    get onprogress() { return state(this, BackgroundFetchRegistration).onprogress; }
    set onprogress(fn) {
      const s = state(this, BackgroundFetchRegistration);
      if (!s.progressListener) {
        s.progressListener = (ev) => { if (typeof s.onprogress === 'function') s.onprogress.call(this, ev); };
        this.addEventListener('progress', s.progressListener);
      }
      s.onprogress = (typeof fn === 'function' || (fn && typeof fn === 'object')) ? fn : null;
    }
  }
  idlInterface(BackgroundFetchRegistration, 'BackgroundFetchRegistration',
    ['id', 'uploadTotal', 'uploaded', 'downloadTotal', 'downloaded', 'result', 'failureReason', 'recordsAvailable']);

  class BackgroundFetchRecord {
    constructor(token) { illegalConstructor(token); }
    get responseReady() {
      const s = state(this, BackgroundFetchRecord);
      if (!s.responseReady) s.responseReady = responseFor(s.client, s.db, s.view);
      return s.responseReady;
    }
  }
  idlInterface(BackgroundFetchRecord, 'BackgroundFetchRecord', ['request']);

  async function createRecord(client, db, view) {
    const r = view.request;
    const init = { method: r.method, headers: r.headers, credentials: r.credentials || undefined,
      redirect: r.redirect || undefined, referrerPolicy: r.referrerPolicy || undefined, integrity: r.integrity || undefined };
    if (r.mode === 'cors' || r.mode === 'same-origin') init.mode = r.mode;
    if (r.cache && r.cache !== 'only-if-cached') init.cache = r.cache;
    if (r.hasBody) init.body = await storedValue(db, 'bodies', [view.uniqueId, view.index]);
    const record = new BackgroundFetchRecord(KEY);
    internals.set(record, { client, db, view, request: new Request(r.url, init), responseReady: null });
    return record;
  }

  // responseReady: resolves once the record's response headers are stored (SPEC §3.8).
  async function responseFor(client, db, view) {
    while (!view.response && !view.result) view = await client.call('waitRecord', view);
    if (!view.response || !view.exposed) throw unavailable(view.result);
    const r = view.response;
    const nullBody = [204, 205, 304].includes(r.status);
    const response = new Response(nullBody ? null : bodyStream(client, db, view), {
      status: r.status, statusText: r.statusText, headers: r.headers,
    });
    Object.defineProperties(response, {
      url: { value: r.url, configurable: true },
      redirected: { value: r.redirected, configurable: true },
      type: { value: r.type || 'basic', configurable: true },
    });
    return response;
  }

  function unavailable(result) {
    return result === 'aborted'
      ? new DOMException('The background fetch was aborted.', 'AbortError')
      : new TypeError('The response is not available.');
  }

  // A body that reads the stored segments in order and waits for more while the record downloads.
  function bodyStream(client, db, first) {
    let view = first;
    let seq = 0;
    return new ReadableStream({
      async pull(controller) {
        for (;;) {
          if (view.generation !== first.generation) {
            controller.error(new TypeError('The response restarted from the beginning.'));
            return;
          }
          if (seq < view.segments) {
            const bytes = await storedValue(db, 'segments', [view.uniqueId, view.index, view.generation, seq]);
            if (bytes === undefined) { controller.error(new TypeError('The response is not available.')); return; }
            seq++;
            controller.enqueue(bytes);
            return;
          }
          if (view.result) {
            if (view.exposed) controller.close(); else controller.error(unavailable(view.result));
            return;
          }
          view = await client.call('waitRecord', view);
        }
      },
    });
  }
