// What responseReady exposes: SPEC §3.8 and §3.13 rules 5 and 13.
(function () {
  const header = (rec, name) => {
    const h = (rec.headers || []).find(([k]) => k.toLowerCase() === name);
    return h ? h[1] : null;
  };

  scenario('response-fields', async (t) => {
    const id = t.id();
    const path = '/files/4k?header=X-Custom:yes&t=' + id;
    await t.fetch(id, [path, '/status/404?t=' + id, '/status/201?t=' + id]);
    const ev = await t.event(id);
    const find = (part) => ev.records.find((x) => x.url.includes(part)) || {};
    const [ok, nf, created] = [find('/files/4k'), find('/status/404'), find('/status/201')];
    t.equal('status', ok.status, 200);
    t.equal('statusText', ok.statusText, 'OK');
    t.equal('other headers kept', header(ok, 'x-custom'), 'yes');
    t.equal('Content-Type kept', header(ok, 'content-type'), 'application/octet-stream');
    t.equal('Content-Length removed', header(ok, 'content-length'), null);
    t.equal('Content-Range removed', header(ok, 'content-range'), null);
    t.equal('url', ok.responseURL, t.url(path));
    t.equal('redirected', ok.redirected, false);
    t.equal('type', ok.type, 'basic');
    t.equal('404 status', nf.status, 404);
    t.equal('404 statusText', nf.statusText, 'Not Found');
    t.equal('201 status', created.status, 201);
  });

  scenario('response-redirected', async (t) => {
    const id = t.id();
    await t.fetch(id, '/redirect?to=' + encodeURIComponent('/files/1k?t=' + id));
    const ev = await t.event(id);
    const rec = ev.records[0];
    t.equal('record.request keeps the URL asked for', rec.url, t.url('/redirect?to=' + encodeURIComponent('/files/1k?t=' + id)));
    t.equal('response url is the final URL', rec.responseURL, t.url('/files/1k?t=' + id));
    t.equal('redirected', rec.redirected, true);
    t.equal('a clone keeps the url', rec.cloneURL, t.url('/files/1k?t=' + id));
    t.equal('a clone keeps redirected', rec.cloneRedirected, true);
    t.equal('a clone keeps the type', rec.cloneType, rec.type);
    t.equal('body', rec.sha256, await t.serverSHA('/files/1k'));
  });

  // redirect: 'manual' would give an opaque redirect (status 0), with no body to store and no way to
  // be a Response made in JS: the redirect is followed, as native Chromium does.
  scenario('response-manual-redirect', async (t) => {
    const id = t.id();
    const path = '/files/1k?t=' + id;
    await t.fetch(id, new Request('/redirect?to=' + encodeURIComponent(path), { redirect: 'manual' }));
    const ev = await t.event(id);
    t.equal('result', ev.result, 'success');
    const rec = ev.records[0] || {};
    t.equal('response url is the final URL', rec.responseURL, t.url(path));
    t.equal('body', rec.sha256, await t.serverSHA('/files/1k'));
  });

  scenario('response-cors', async (t) => {
    const id = t.id();
    const url = t.crossOrigin('/files/2k?header=X-Secret:1&t=' + id);
    await t.fetch(id, url);
    const ev = await t.event(id);
    const rec = ev.records[0];
    t.equal('succeeds', ev.result, 'success');
    t.equal('type', rec.type, 'cors');
    t.equal('headers outside the CORS safelist are filtered', header(rec, 'x-secret'), null);
    t.equal('body', rec.sha256, await t.serverSHA('/files/2k'));
  });

  scenario('response-cors-failure-not-leaked', async (t) => {
    const id = t.id();
    const r = await t.fetch(id, t.crossOrigin('/files/64k?nocors&t=' + id));
    const ev = await t.event(id);
    t.equal('failureReason', ev.failureReason, 'fetch-error');
    t.equal('none of its bytes are counted', ev.downloaded, 0);
    t.equal('nor on the page', r.downloaded, 0);
    t.check('responseReady rejects', ev.records[0] && !!ev.records[0].error, JSON.stringify(ev.records[0]));
  });

  // A HEAD request's response has no body, whatever its Content-Length says; a request that asks for
  // a range of its own gets that range (a 206), as fetch() would.
  scenario('response-head-and-own-range', async (t) => {
    const id = t.id();
    const ranged = new Request('/files/4k?t=' + id, { headers: { Range: 'bytes=1000-' } });
    await t.fetch(id, [new Request('/files/8k?t=' + id, { method: 'HEAD' }), ranged]);
    const ev = await t.event(id);
    t.equal('succeeds', ev.result, 'success');
    const head = ev.records.find((x) => x.url.includes('/files/8k')) || {};
    const range = ev.records.find((x) => x.url.includes('/files/4k')) || {};
    t.equal('HEAD status', head.status, 200);
    t.equal('HEAD body is empty', head.size, 0);
    t.equal('the range\'s status', range.status, 206);
    const want = await (await fetch('/files/4k?t=' + id, { headers: { Range: 'bytes=1000-' } })).arrayBuffer();
    t.equal('the range\'s body', range.sha256, await t.sha256(want));
    t.equal('downloaded counts the range', ev.downloaded, 4096 - 1000);
  });

  // A server that sends a body chunked yet declares a Content-Length (a misconfigured proxy) has the
  // length ignored (RFC 9112 §6.3), as fetch() does: the whole body is stored, however long.
  scenario('response-chunked-length-ignored', async (t) => {
    const id = t.id();
    const files = { '/files/1m': 500000, '/files/300k': 1000, '/files/200k': 400000 }; // shorter, far shorter, longer
    await t.fetch(id, Object.entries(files).map(([p, n]) => p + '?length=' + n + '&t=' + id));
    const ev = await t.event(id);
    t.equal('succeeds', ev.result, 'success');
    t.equal('downloaded counts every byte', ev.downloaded, (1024 + 300 + 200) * 1024);
    for (const p of Object.keys(files)) {
      const rec = ev.records.find((x) => x.url.includes(p + '?')) || {};
      t.equal(p + ' body', rec.sha256, await t.serverSHA(p));
    }
  });
})();

scenario('downloaded-counts-decoded-bytes', async (t) => {
  const id = t.id();
  const r = await t.fetch(id, '/files/100k?gzip&t=' + id);
  const ev = await t.event(id);
  const rec = ev.records[0];
  t.equal('succeeds', ev.result, 'success');
  t.equal('downloaded is the decoded length', ev.downloaded, 100 * 1024);
  t.equal('on the page too', r.downloaded, 100 * 1024);
  t.equal('the body is decoded', rec.sha256, await t.serverSHA('/files/100k'));
  t.equal('Content-Encoding is kept', (rec.headers.find(([k]) => k === 'content-encoding') || [])[1], 'gzip');
});
