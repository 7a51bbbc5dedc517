// Completion events, updateUI() and waitUntil(): SPEC §3.2 step 4, §3.9, §3.12 and §3.13 rules 8, 11 and 12.
(function () {
  scenario('event-success', async (t) => {
    const id = t.id();
    const r = await t.fetch(id, '/files/8k?t=' + id);
    const ev = await t.event(id);
    const o = ev.observed;
    t.equal('event', ev.event, 'backgroundfetchsuccess');
    t.check('a BackgroundFetchUpdateUIEvent', o.isUpdateUIEvent && o.isBackgroundFetchEvent && o.isExtendable, JSON.stringify(o));
    t.equal('result', ev.result, 'success');
    t.equal('failureReason', ev.failureReason, '');
    t.equal('records available during the event', o.recordsAvailableDuring, true);
    t.equal('get() misses the id during the event', o.getDuring, 'undefined');
    t.check('getIds() misses the id during the event', !o.idsDuring.includes(id), JSON.stringify(o.idsDuring));
    t.equal('the event constructor works', o.ctor, 'ok');
    t.equal('the event constructor needs its init', o.ctorWithoutInit, 'threw:TypeError');
    t.equal('the page has the result when the worker reports', r.result, 'success');
    t.equal('registration id', r.id, id);
  });

  // The final update can reach the page before the answer of its fetch() (they come by different
  // ways; here the answer is held back 300 ms): the page still sees the final progress event after
  // fetch() resolves, with the records available to matchAll() in its listener (SPEC §3.4).
  scenario('final-update-before-the-answer', async (t) => {
    const id = t.id();
    const restore = t.delayAnswers(300);
    let r;
    try {
      r = await t.fetch(id, '/files/1k?t=' + id);
    } finally {
      restore();
    }
    const seen = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ result: r.result, records: r.recordsAvailable, timedOut: true }), 5000);
      r.addEventListener('progress', async () => {
        if (!r.result) return;
        clearTimeout(timer);
        const got = { result: r.result, records: r.recordsAvailable };
        try {
          got.matched = (await r.matchAll()).length;
        } catch (e) {
          got.matched = e.name;
        }
        resolve(got);
      });
    });
    t.equal('a progress event carries the result', seen.timedOut, undefined);
    t.equal('result', seen.result, 'success');
    t.equal('matchAll() in its listener', seen.matched, 1);
  });

  scenario('event-fail', async (t) => {
    const id = t.id();
    await t.fetch(id, '/status/404?t=' + id);
    const ev = await t.event(id);
    t.equal('event', ev.event, 'backgroundfetchfail');
    t.check('a BackgroundFetchUpdateUIEvent', ev.observed.isUpdateUIEvent, JSON.stringify(ev.observed));
    t.equal('failureReason', ev.failureReason, 'bad-status');
  });

  scenario('event-id-reusable', async (t) => {
    const id = t.id('hold');
    const bf = (await t.reg()).backgroundFetch;
    const first = await bf.fetch(id, '/files/1k?t=' + id);
    await t.held(id);
    t.equal('get() misses the id during the event', await bf.get(id), undefined);
    let second;
    try {
      second = await bf.fetch(id, '/files/2k?t=' + id);
    } catch (e) {
      second = e;
    }
    t.check('fetch() may reuse the id during the event', second instanceof BackgroundFetchRegistration, String(second));
    t.check('as a new registration', second !== first, 'the same object');
    t.equal('the first registration still reads its records', (await first.matchAll()).length, 1);
    await t.release(id);
    await t.until('the second fetch completes', async () => !(await bf.getIds()).includes(id));
    await t.until('the second fetch succeeds', async () => second.result === 'success');
  });

  scenario('updateui-once', async (t) => {
    const id = t.id('updateui-twice');
    await t.fetch(id, '/files/1k?t=' + id);
    const ev = await t.event(id);
    t.equal('the first call resolves', ev.observed.first, 'resolved');
    t.equal('a second call rejects', ev.observed.second, 'rejected:InvalidStateError');
  });

  scenario('updateui-inside-waituntil', async (t) => {
    const id = t.id('updateui-waituntil');
    await t.fetch(id, '/files/1k?t=' + id);
    t.equal('resolves while a waitUntil promise is pending', (await t.event(id)).observed.later, 'resolved');
  });

  scenario('updateui-inactive', async (t) => {
    const id = t.id('no-waituntil');
    await t.fetch(id, '/files/1k?t=' + id);
    const ev = await t.event(id);
    t.equal('updateUI() after the handler returned rejects', ev.late && ev.late.updateUI, 'rejected:InvalidStateError');
    t.equal('waitUntil() after the handler returned throws', ev.late && ev.late.waitUntil, 'threw:InvalidStateError');
  });

  scenario('updateui-bad-icon', async (t) => {
    const id = t.id('updateui-bad-icon');
    await t.fetch(id, '/files/1k?t=' + id);
    t.equal('an icon without src rejects with TypeError', (await t.event(id)).observed.icons, 'rejected:TypeError');
  });

  scenario('event-arguments', async (t) => {
    const id = t.id('event-arguments');
    await t.fetch(id, '/files/1k?t=' + id);
    const ev = await t.event(id);
    t.equal('updateUI() on an event that is no BackgroundFetchUpdateUIEvent rejects', ev.observed.updateUIOnAbortEvent, 'rejected:TypeError');
    t.equal('waitUntil() without its argument throws', ev.observed.waitUntilWithoutArgument, 'threw:TypeError');
  });

  scenario('waituntil-nested', async (t) => {
    const id = t.id('waituntil-nested');
    await t.fetch(id, '/files/1k?t=' + id);
    t.equal('waitUntil() while a promise is pending is allowed', (await t.event(id)).observed.nested, 'ok');
  });

  scenario('progress-events', async (t) => {
    const id = t.id();
    const r = await t.fetch(id, ['/files/512k?rate=524288&t=' + id, '/files/64k?t=' + id]);
    const events = t.watch(r);
    await t.event(id);
    const atEvent = r.result;
    await t.until('records become unavailable', () => !r.recordsAvailable);
    await t.sleep(300);
    t.check('progress events arrive', events.length > 0, 'none');
    const last = events[events.length - 1] || {};
    t.check('the last carries the result, before the worker event', last.result === 'success' && atEvent === 'success', JSON.stringify(last));
    t.equal('the last carries every byte', last.downloaded, 512 * 1024 + 64 * 1024);
    t.check('only on a change', events.every((e, i) => i === 0 || e.downloaded !== events[i - 1].downloaded || e.result !== events[i - 1].result),
      JSON.stringify(events.map((e) => e.downloaded)));
    t.check('never after settlement', events.filter((e) => e.result !== '').length === 1, JSON.stringify(events.slice(-3)));
    t.check('downloaded never goes down', events.every((e, i) => i === 0 || e.downloaded >= events[i - 1].downloaded), 'went down');
    t.check('plain Events, not cancelable, not bubbling', events.every((e) => e.type === 'progress' && !e.cancelable && !e.bubbles), 'wrong event');
  });

  scenario('get-same-values', async (t) => {
    const id = t.id();
    const bf = (await t.reg()).backgroundFetch;
    const r = await bf.fetch(id, '/files/256k?rate=262144&t=' + id, { downloadTotal: 1 << 20 });
    await t.until('downloading', () => r.downloaded > 0);
    const g = await bf.get(id);
    for (const k of ['id', 'uploadTotal', 'uploaded', 'downloadTotal', 'result', 'failureReason', 'recordsAvailable']) t.equal(k, g[k], r[k]);
    t.check('downloaded is current', g.downloaded >= r.downloaded || g === r, g.downloaded + ' < ' + r.downloaded);
    await t.event(id);
  });
})();
