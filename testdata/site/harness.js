// Test harness driven by the Go end-to-end tests: every call returns JSON-able data.
(function () {
  const log = []; // progress events and worker messages, in the order the page saw them
  const regs = new Map(); // id → the BackgroundFetchRegistration this page holds
  const waiters = [];

  const snap = (r) => r && ({ id: r.id, uploadTotal: r.uploadTotal, uploaded: r.uploaded, downloadTotal: r.downloadTotal,
    downloaded: r.downloaded, result: r.result, failureReason: r.failureReason, recordsAvailable: r.recordsAvailable });

  const workerErrors = [];
  navigator.serviceWorker.addEventListener('message', (e) => {
    if (e.data && e.data.type === 'sw-error') workerErrors.push(e.data.message);
    if (!e.data || e.data.type !== 'bgfetch-event') return;
    const r = regs.get(e.data.id);
    log.push({ kind: 'worker', ...e.data, pageView: snap(r) });
    for (const w of waiters.splice(0)) w();
  });

  function watch(r) {
    regs.set(r.id, r);
    r.addEventListener('progress', () => log.push({ kind: 'progress', ...snap(r) }));
  }

  async function registration() {
    const url = '/sw.js' + (window.NATIVE ? '?native=1' : '');
    await navigator.serviceWorker.register(url, { scope: '/' });
    return navigator.serviceWorker.ready;
  }

  window.harness = {
    async setup() {
      await registration();
      return { native: window.NATIVE, api: typeof BackgroundFetchManager };
    },
    async start(id, requests, options) {
      const reg = await registration();
      const r = await reg.backgroundFetch.fetch(id, requests, options || {});
      watch(r);
      return snap(r);
    },
    async get(id) {
      const reg = await registration();
      const r = await reg.backgroundFetch.get(id);
      if (r) watch(r);
      return r === undefined ? 'undefined' : snap(r);
    },
    async getIds() {
      return (await registration()).backgroundFetch.getIds();
    },
    current(id) { return snap(regs.get(id)); },
    // Makes the worker's Go instance panic; the call itself is never answered.
    async crashEngine() {
      (await registration()).active.postMessage({ __bgfetch: { op: 'crash', args: '{}' } });
      return true;
    },
    // Resolves with the log once the worker reported the completion event of id.
    async finished(id, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (log.some((e) => e.kind === 'worker' && e.id === id)) return log.filter((e) => e.id === id);
        if (Date.now() > deadline) {
          throw new Error('no completion event for ' + id + ' after ' + timeoutMs + ' ms; log: ' +
            JSON.stringify(log.filter((e) => e.id === id).slice(-3)) + '; worker errors: ' + JSON.stringify(workerErrors.slice(-5)));
        }
        await new Promise((res) => { waiters.push(res); setTimeout(res, 200); });
      }
    },
  };
})();
