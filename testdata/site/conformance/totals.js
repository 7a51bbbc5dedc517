// downloadTotal and the failure rules: SPEC §3.2, §3.3 and §3.13 rules 3, 4 and 6.
(function () {
  scenario('download-total-exceeded', async (t) => {
    const id = t.id();
    const total = 100000;
    const r = await t.fetch(id, ['/files/64k?t=' + id, '/files/1m?rate=262144&t=' + id, '/files/4m?rate=262144&t=' + id], { downloadTotal: total });
    const progress = t.watch(r);
    const ev = await t.event(id);
    t.equal('event', ev.event, 'backgroundfetchfail');
    t.equal('failureReason', ev.failureReason, 'download-total-exceeded');
    t.check('downloaded never exceeds downloadTotal', ev.downloaded <= total && progress.every((p) => p.downloaded <= total),
      'downloaded ' + ev.downloaded + ', progress ' + progress.map((p) => p.downloaded).join());
    t.check('the other requests were stopped', (await t.serverLog()).filter((e) => e.rawQuery.includes(id)).every((e) => e.bytes < 4 << 20),
      'a request ran to the end');
  });

  scenario('download-total-reached', async (t) => {
    const id = t.id();
    const r = await t.fetch(id, ['/files/64k?t=' + id, '/files/8k?t=' + id], { downloadTotal: 65536 + 8192 });
    const ev = await t.event(id);
    t.equal('a total that is reached, not exceeded, succeeds', ev.result, 'success');
    t.equal('downloadTotal', r.downloadTotal, 65536 + 8192);
  });

  scenario('bad-status-does-not-stop-others', async (t) => {
    const id = t.id();
    const r = await t.fetch(id, ['/status/404?t=' + id, '/files/1m?t=' + id, '/files/2k?status=403&t=' + id]);
    const ev = await t.event(id);
    t.equal('event', ev.event, 'backgroundfetchfail');
    t.equal('result', ev.result, 'failure');
    t.equal('failureReason', ev.failureReason, 'bad-status');
    const ok = ev.records.find((x) => x.url.includes('/files/1m'));
    t.check('the other request completed', ok && ok.sha256 === (await t.serverSHA('/files/1m')), JSON.stringify(ok));
    const nf = ev.records.find((x) => x.url.includes('/status/404'));
    t.equal('a 404 is exposed', nf && nf.status, 404);
    t.equal('a 404 body is stored', nf && nf.sha256, await t.serverSHA('/status/404'));
    t.equal('bad-status bodies are counted', ev.downloaded, (1 << 20) + 1024 + 2048);
    t.equal('the page agrees', r.failureReason, 'bad-status');
  });

  scenario('server-error-is-bad-status', async (t) => {
    const id = t.id();
    await t.fetch(id, ['/status/503?t=' + id, '/files/1k?t=' + id]);
    const ev = await t.event(id);
    t.equal('a 5xx answer is a bad status, not retried', ev.failureReason, 'bad-status');
    t.equal('and exposed', (ev.records.find((x) => x.url.includes('/status/503')) || {}).status, 503);
  });

  scenario('first-failure-wins', async (t) => {
    const a = t.id();
    await t.fetch(a, ['/files/16k?status=404&rate=4096&t=' + a, t.crossOrigin('/files/1k?nocors&t=' + a)]);
    t.equal('the earlier fetch-error wins over a later bad-status', (await t.event(a)).failureReason, 'fetch-error');
    const b = t.id();
    await t.fetch(b, ['/status/404?t=' + b, t.crossOrigin('/files/8k?nocors&rate=4096&t=' + b)]);
    t.equal('the earlier bad-status wins over a later fetch-error', (await t.event(b)).failureReason, 'bad-status');
  });

  scenario('unexposed-response-rejects-typeerror', async (t) => {
    const id = t.id();
    await t.fetch(id, t.crossOrigin('/files/1k?nocors&t=' + id));
    const ev = await t.event(id);
    t.equal('failureReason', ev.failureReason, 'fetch-error');
    t.equal('responseReady rejects with TypeError', ev.records[0] && ev.records[0].error, 'TypeError');
  });
})();
