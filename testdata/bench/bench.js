// Benchmark page, driven by web/bench: every call returns JSON-able figures.
(function () {
  const reports = new Map(); // id → the worker's completion report
  const waiters = new Map(); // id → resolve of the report() waiting for it
  navigator.serviceWorker.addEventListener('message', (e) => {
    if (!e.data || e.data.type !== 'bench-done') return;
    reports.set(e.data.id, e.data);
    const w = waiters.get(e.data.id);
    if (w) w();
  });

  async function registration() {
    await navigator.serviceWorker.register('/sw.js' + (window.NATIVE ? '?native=1' : ''), { scope: '/' });
    return navigator.serviceWorker.ready;
  }

  async function ask(msg) {
    const reg = await registration();
    const { port1, port2 } = new MessageChannel();
    const answer = new Promise((resolve) => { port1.onmessage = (e) => resolve(e.data); });
    reg.active.postMessage(msg, [port2]);
    const v = await answer;
    if (v && v.error) throw new Error(v.error);
    return v;
  }

  // report waits for the completion report of id. Each waits for its own message, without polling:
  // the page's CPU competes with the worker's while the fetches run.
  async function report(id, timeoutMs) {
    if (!reports.has(id)) {
      let timer;
      await new Promise((resolve, reject) => {
        waiters.set(id, resolve);
        timer = setTimeout(() => reject(new Error('no completion event for ' + id)), timeoutMs || 600000);
      }).finally(() => { waiters.delete(id); clearTimeout(timer); });
    }
    return reports.get(id);
  }

  const running = new Map(); // id → { reg, start, events } of bench.start
  let seq = 0;
  const freshId = (name) => name + '-' + Date.now() + '-' + (seq++);

  window.bench = {
    setup: registration,
    // ms from bgfetch.js loaded (its last byte received) to after its <script>, from before the
    // <script> tag to after it (loading included), and to the first answered call.
    async page() {
      const reg = await registration();
      const [entry] = performance.getEntriesByName(new URL('/dist/bgfetch.js', location.href).href);
      const t = performance.now();
      await reg.backgroundFetch.getIds();
      return { script: window.T_AFTER - entry.responseEnd, load: window.T_AFTER - window.T_BEFORE,
        usable: typeof reg.backgroundFetch.fetch === 'function', firstCall: performance.now() - t };
    },
    startup() { return ask({ type: 'startup' }); },
    // One background fetch of urls until its completion event, with the page's progress events.
    async fetch(urls) { return this.finish(await this.start(urls)); },
    async start(urls, id = freshId('bench')) {
      const reg = await registration();
      const run = { events: [], start: Date.now() };
      running.set(id, run);
      run.reg = await reg.backgroundFetch.fetch(id, urls);
      run.reg.addEventListener('progress', () => run.events.push([Date.now() - run.start, run.reg.downloaded]));
      return id;
    },
    current(id) { return running.get(id).reg.downloaded; },
    async finish(id) {
      const run = running.get(id);
      const done = await report(id);
      running.delete(id);
      return { ms: done.at - run.start, bytes: done.downloaded, event: done.event, progress: run.events, start: run.start };
    },
    // bench.fetch while the worker notes when its segments were stored: [[Date.now(), bytes stored]].
    async watched(urls) {
      const id = freshId('watched');
      await ask({ type: 'stored-watch', id });
      const run = await this.finish(await this.start(urls, id));
      return Object.assign(run, { stored: await ask({ type: 'stored-stop' }) });
    },
    // Many background fetches started at once, until the last completion event.
    async fanout(lists, fileSize) {
      const reg = await registration();
      const start = Date.now();
      const ids = lists.map(() => freshId('fan'));
      let stored = 0; // when the last registration counted all its bytes
      const regs = await Promise.all(lists.map(async (urls, i) => {
        const r = await reg.backgroundFetch.fetch(ids[i], urls);
        r.addEventListener('progress', () => { if (r.downloaded >= urls.length * fileSize) stored = Math.max(stored, Date.now()); });
        return r;
      }));
      const started = Date.now() - start;
      const done = await Promise.all(ids.map((id) => report(id)));
      return { ms: Math.max(...done.map((d) => d.at)) - start, started, stored: stored - start,
        failed: done.filter((d) => d.event !== 'backgroundfetchsuccess').length + regs.length - ids.length };
    },
    baseline(urls) { return ask({ type: 'baseline', urls }); },
    memoryStart() { return ask({ type: 'memory-start' }); },
    memoryStop() { return ask({ type: 'memory-stop' }); },
  };
})();
