// match() and matchAll(): SPEC §3.7, §3.8 and §3.13 rule 10.
(function () {
  scenario('match-query-options', async (t) => {
    const id = t.id('hold');
    const base = '/status/200';
    const r = await t.fetch(id, [base, base, base + '?id=3', new Request(base, { method: 'PUT' }), '/files/128k?rate=65536&t=' + id]);
    const count = async (opts) => (await r.matchAll(base, opts)).length;
    t.equal('plain', await count(), 2);
    t.equal('ignoreSearch', await count({ ignoreSearch: true }), 3);
    t.equal('ignoreMethod', await count({ ignoreMethod: true }), 3);
    t.equal('both', await count({ ignoreSearch: true, ignoreMethod: true }), 4);
    t.check('a fragment is ignored', (await r.match(base + '#part')) !== undefined, 'no match');
    t.equal('match() of nothing is undefined', await r.match('/nothing-like-this'), undefined);
    t.equal('match(undefined) asks for the URL "undefined"', await r.match(undefined), undefined);
    await t.held(id);
    t.equal('plain, once settled', await count(), 2);
    await t.release(id);
    await t.event(id);
  });

  scenario('match-vary', async (t) => {
    const id = t.id('hold');
    const url = '/files/1k?header=Vary:X-Flavour&t=' + id;
    const star = '/files/2k?header=Vary:*&t=' + id;
    const r = await t.fetch(id, [new Request(url, { headers: { 'X-Flavour': 'mint' } }), star]);
    await t.held(id);
    const q = (flavour) => new Request(url, { headers: flavour ? { 'X-Flavour': flavour } : {} });
    t.check('the same Vary header value matches', (await r.match(q('mint'))) !== undefined, 'no match');
    t.equal('another value does not', await r.match(q('lime')), undefined);
    t.check('ignoreVary matches anyway', (await r.match(q('lime'), { ignoreVary: true })) !== undefined, 'no match');
    t.equal('Vary: * never matches', await r.match(star), undefined);
    t.check('unless ignoreVary', (await r.match(star, { ignoreVary: true })) !== undefined, 'no match');
    await t.release(id);
    await t.event(id);
  });

  scenario('matchall-request-order', async (t) => {
    const id = t.id('hold');
    const paths = ['/files/3k?t=' + id, '/files/1k?t=' + id, '/files/2k?t=' + id, '/files/1k?t=' + id + '&again'];
    const r = await t.fetch(id, paths);
    await t.held(id);
    const all = await r.matchAll();
    t.equal('matchAll() without arguments returns every record in request order', JSON.stringify(all.map((x) => x.request.url)),
      JSON.stringify(paths.map((p) => t.url(p))));
    await t.release(id);
    const ev = await t.event(id);
    t.equal('in the worker too', JSON.stringify(ev.records.map((x) => x.url)), JSON.stringify(paths.map((p) => t.url(p))));
  });

  scenario('match-new-objects', async (t) => {
    const id = t.id('hold');
    const path = '/files/96k?t=' + id;
    const r = await t.fetch(id, path);
    await t.held(id);
    const a = await r.match(path);
    const b = await r.match(path);
    t.check('each call returns a new record', a !== b, 'the same object');
    const [ra, rb] = await Promise.all([a.responseReady, b.responseReady]);
    const [ba, bb] = await Promise.all([ra.arrayBuffer(), rb.arrayBuffer()]);
    const want = await t.serverSHA('/files/96k');
    t.equal('the first body reads in full', await t.sha256(ba), want);
    t.equal('the second body reads in full too', await t.sha256(bb), want);
    await t.release(id);
    await t.event(id);
  });

  scenario('match-while-running', async (t) => {
    const id = t.id();
    const small = '/files/1k?t=' + id;
    const slow = '/files/512k?rate=131072&t=' + id;
    const r = await t.fetch(id, [small, slow]);
    await t.until('the first bytes are stored', () => r.downloaded > 2048);
    const rec = await r.match(slow);
    const completed = await r.match(small);
    t.check('an in-progress record matches', rec !== undefined, 'no match');
    const res = await rec.responseReady;
    t.equal('responseReady resolves while the fetch runs', r.result, '');
    const reader = res.body.getReader();
    const first = await reader.read();
    const sent = ((await t.serverLog()).find((e) => e.path === '/files/512k' && e.rawQuery.includes(id)) || {}).bytes;
    t.check('the body streams stored bytes before the end', !first.done && first.value.byteLength > 0 && sent < 512 * 1024,
      'first read ' + JSON.stringify({ done: first.done, serverHadSent: sent }));
    const parts = [first.value];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
    const body = await new Blob(parts).arrayBuffer();
    t.equal('and ends with every byte', await t.sha256(body), await t.serverSHA('/files/512k'));
    const done = await (await completed.responseReady).arrayBuffer();
    t.equal('the completed record reads too', done.byteLength, 1024);
    await t.event(id);
  });

  scenario('records-unavailable-after-event', async (t) => {
    const id = t.id('hold');
    const path = '/files/300k?t=' + id;
    const r = await t.fetch(id, [path, '/files/1k?t=' + id]);
    await t.held(id);
    t.equal('records available during the event', r.recordsAvailable, true);
    const early = await r.match(path);
    const earlyAll = await r.matchAll();
    const events = t.watch(r);
    await t.release(id);
    await t.event(id);
    await t.until('recordsAvailable turns false', () => !r.recordsAvailable);
    t.equal('without a progress event', events.length, 0);
    await t.rejects('match() after the event', () => r.match(path), 'InvalidStateError');
    await t.rejects('matchAll() after the event', () => r.matchAll(), 'InvalidStateError');
    await t.sleep(500); // let the worker delete what it stored
    const res = await early.responseReady;
    t.equal('a record obtained before still reads', await t.sha256(await res.arrayBuffer()), await t.serverSHA('/files/300k'));
    // By URL: native Chromium's matchAll() order varies, and order is another scenario's check.
    const small = earlyAll.find((rec) => rec.request.url === t.url('/files/1k?t=' + id));
    const other = await small.responseReady;
    t.equal('so does one from matchAll()', (await other.arrayBuffer()).byteLength, 1024);
    t.equal('its request too', earlyAll.filter((rec) => rec.request.url === t.url(path)).length, 1);
  });
})();
