// fetch(), get() and getIds() arguments: SPEC §3.1, §3.5 and §3.13 rules 1, 2 and 10.
(function () {
  async function absent(t, label, id) {
    const bf = (await t.reg()).backgroundFetch;
    t.equal(label + ': nothing stored', await bf.get(id), undefined);
    t.check(label + ': not in getIds()', !(await bf.getIds()).includes(id), 'listed');
  }

  scenario('fetch-empty-list', async (t) => {
    const id = t.id();
    await t.rejects('rejects', () => t.fetch(id, []), 'TypeError');
    await absent(t, 'empty list', id);
  });

  scenario('fetch-request-constructor-error', async (t) => {
    const id = t.id();
    await t.rejects('credentials in the URL', () => t.fetch(id, 'https://user:pass@example.com/secret.txt'), 'TypeError');
    await t.rejects('an invalid URL', () => t.fetch(id, 'http://[::1'), 'TypeError');
    await absent(t, 'constructor error', id);
  });

  scenario('fetch-no-cors', async (t) => {
    const id = t.id();
    await t.rejects('no-cors Request', () => t.fetch(id, new Request('/files/1k', { mode: 'no-cors' })), 'TypeError');
    await t.rejects('no-cors among others', () => t.fetch(id, ['/files/1k', new Request('/files/2k', { mode: 'no-cors' })]), 'TypeError');
    await absent(t, 'no-cors', id);
  });

  scenario('fetch-bad-scheme', async (t) => {
    const id = t.id();
    for (const url of ['wss://127.0.0.1/x', 'data:text/plain,hi', 'file:///etc/hostname', 'blob:' + location.origin + '/x', 'foobar:x']) {
      await t.rejects(url.split(':')[0] + ' scheme', () => t.fetch(id, url), 'TypeError');
    }
    await absent(t, 'bad scheme', id);
  });

  scenario('fetch-bad-port', async (t) => {
    const id = t.id();
    for (const port of [1, 25, 587, 6666, 10080]) {
      await t.rejects('port ' + port, () => t.fetch(id, 'http://127.0.0.1:' + port + '/x'), 'TypeError');
    }
    await absent(t, 'bad port', id);
  });

  scenario('fetch-empty-id', async (t) => {
    await t.rejects('empty id', () => t.fetch('', '/files/1k'), 'TypeError');
  });

  scenario('fetch-too-few-arguments', async (t) => {
    const bf = (await t.reg()).backgroundFetch;
    await t.rejects('fetch(id)', () => bf.fetch(t.id()), 'TypeError');
  });

  scenario('fetch-id-in-use', async (t) => {
    const id = t.id();
    const r = await t.fetch(id, '/files/256k?rate=131072&t=' + id);
    await t.rejects('second fetch with the active id', () => t.fetch(id, '/files/1k'), 'TypeError');
    t.equal('the first is untouched', (await (await t.reg()).backgroundFetch.get(id)) === undefined, false);
    await r.abort();
    await t.event(id);
  });

  scenario('fetch-id-race', async (t) => {
    const id = t.id();
    const url = '/files/64k?t=' + id;
    const results = await Promise.allSettled([t.fetch(id, url), t.fetch(id, url)]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const bad = results.filter((r) => r.status === 'rejected');
    t.equal('one fetch() wins', ok.length, 1);
    t.check('the other rejects with TypeError', bad.length === 1 && bad[0].reason instanceof TypeError,
      bad.map((b) => String(b.reason)).join());
    await t.event(id);
  });

  scenario('fetch-quota', async (t) => {
    const id = t.id();
    await t.rejects('downloadTotal above the storage available', () => t.fetch(id, '/files/1k', { downloadTotal: Number.MAX_SAFE_INTEGER }), 'QuotaExceededError');
    await absent(t, 'quota', id);
  });

  scenario('fetch-no-active-worker', async (t) => {
    const reg = await navigator.serviceWorker.register('/conformance/installing-sw.js', { scope: '/conformance/installing/' });
    try {
      t.check('the worker is still installing', !reg.active, 'it activated');
      await t.rejects('fetch() without an active worker', () => reg.backgroundFetch.fetch(t.id(), '/files/1k'), 'TypeError');
      t.equal('get() resolves undefined', await reg.backgroundFetch.get('x'), undefined);
      t.equal('getIds() resolves []', JSON.stringify(await reg.backgroundFetch.getIds()), '[]');
    } finally {
      await reg.unregister();
    }
  });

  scenario('fetch-duplicate-urls', async (t) => {
    const id = t.id();
    const url = '/files/8k?t=' + id;
    const r = await t.fetch(id, [url, url, t.url(url)]);
    const ev = await t.event(id);
    t.equal('succeeds', ev.result, 'success');
    t.equal('three records', ev.records.length, 3);
    t.equal('all of them counted', ev.downloaded, 3 * 8192);
    t.equal('downloaded on the page', r.downloaded, 3 * 8192);
  });

  scenario('fetch-single-request', async (t) => {
    const a = t.id();
    const b = t.id();
    const ra = await t.fetch(a, '/files/1k?t=' + a);
    const rb = await t.fetch(b, new Request('/files/2k?t=' + b));
    t.equal('a string', ra.id, a);
    t.equal('a Request', rb.id, b);
    t.equal('string fetch succeeds', (await t.event(a)).result, 'success');
    t.equal('Request fetch succeeds', (await t.event(b)).result, 'success');
  });

  scenario('fetch-later-network-failure', async (t) => {
    // Not rejected up front: a URL that cannot be reached fails later, as mixed content does.
    const id = t.id();
    const r = await t.fetch(id, 'http://127.0.0.1:47/unreachable');
    t.equal('registers', r.id, id);
    const ev = await t.event(id, 60000);
    t.equal('event', ev.event, 'backgroundfetchfail');
    t.equal('failureReason', ev.failureReason, 'fetch-error');
  });

  scenario('fetch-empty-url', async (t) => {
    const id = t.id();
    const r = await t.fetch(id, '');
    const ev = await t.event(id);
    t.equal('resolves to the document', ev.records[0] && ev.records[0].url, location.href);
    t.equal('succeeds', ev.result, 'success');
    t.equal('registration', r.result, 'success');
  });

  scenario('fetch-download-total-conversion', async (t) => {
    const cases = [['2048', 2048], [1000.9, 1000], [NaN, 0], [undefined, 0], [null, 0]];
    for (const [given, want] of cases) {
      const id = t.id();
      const r = await t.fetch(id, '/files/1k?t=' + id, { downloadTotal: given });
      t.equal('downloadTotal ' + String(given), r.downloadTotal, want);
      await t.event(id);
    }
  });

  // WebIDL converts a dictionary's inherited members first, each dictionary's in lexicographic
  // order, reading each once; a BigInt is no number, and options must be an object.
  scenario('fetch-options-conversion', async (t) => {
    const bf = (await t.reg()).backgroundFetch;
    const log = [];
    const read = (name, value) => { log.push(name); return value; };
    const icon = {
      get type() { return read('type', 'image/png'); }, get src() { return read('src', '/icon.png'); },
      get sizes() { return read('sizes', '16x16'); }, get label() { return read('label', 'an icon'); },
    };
    const options = {
      get downloadTotal() { return read('downloadTotal', 0); }, get title() { return read('title', 'a title'); },
      get icons() { return read('icons', [icon]); },
    };
    const id = t.id();
    await t.fetch(id, '/files/1k?t=' + id, options);
    t.equal('members read once each, in order', log.join(','), 'icons,label,sizes,src,type,title,downloadTotal');
    await t.event(id);
    await t.rejects('downloadTotal as a BigInt', () => bf.fetch(t.id(), '/files/1k', { downloadTotal: 10n }), 'TypeError');
    for (const bad of [5, true, 'options']) {
      await t.rejects('options ' + JSON.stringify(bad), () => bf.fetch(t.id(), '/files/1k', bad), 'TypeError');
    }
  });

  scenario('get-arguments', async (t) => {
    const bf = (await t.reg()).backgroundFetch;
    await t.rejects('get() without an argument', () => bf.get(), 'TypeError');
    await t.rejects("get('')", () => bf.get(''), 'TypeError');
    t.equal('get() of an unknown id is undefined', await bf.get('no-such-fetch'), undefined);
    await t.rejects('get(Symbol())', () => bf.get(Symbol('x')), 'TypeError'); // WebIDL DOMString
    await t.rejects('fetch(Symbol(), url)', () => bf.fetch(Symbol('x'), '/files/1k'), 'TypeError');
  });

  scenario('getids-order', async (t) => {
    const b = 'b.' + t.id();
    const a = 'a.' + t.id();
    const bf = (await t.reg()).backgroundFetch;
    const rb = await bf.fetch(b, '/files/64k?rate=32768&t=' + b);
    const ra = await bf.fetch(a, '/files/64k?rate=32768&t=' + a);
    const ids = (await bf.getIds()).filter((x) => x === a || x === b);
    t.equal('insertion order', JSON.stringify(ids), JSON.stringify([b, a]));
    await rb.abort();
    await ra.abort();
    await t.event(a);
    await t.event(b);
  });
})();
