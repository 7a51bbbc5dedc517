// abort(): SPEC §3.6 and §3.13 rules 9 and 12.
(function () {
  scenario('abort-lifecycle', async (t) => {
    const id = t.id();
    const slow = '/files/4m?rate=262144&t=' + id;
    const bf = (await t.reg()).backgroundFetch;
    const r = await bf.fetch(id, slow);
    const progress = t.watch(r);
    await t.until('starts downloading', () => r.downloaded > 0);
    t.equal('first abort() resolves true', await r.abort(), true);
    t.equal('get() misses it at once', await bf.get(id), undefined);
    t.check('getIds() misses it at once', !(await bf.getIds()).includes(id), 'still listed');
    t.equal('second abort() resolves false', await r.abort(), false);
    const ev = await t.event(id);
    t.equal('event', ev.event, 'backgroundfetchabort');
    t.equal('result', ev.result, 'failure');
    t.equal('failureReason', ev.failureReason, 'aborted');
    t.check('a BackgroundFetchEvent', ev.observed.isBackgroundFetchEvent, 'not a BackgroundFetchEvent');
    t.check('not a BackgroundFetchUpdateUIEvent', !ev.observed.isUpdateUIEvent && !ev.observed.hasUpdateUI, 'has updateUI');
    const last = progress[progress.length - 1];
    t.check('the page saw a final progress event', last && last.result === 'failure' && last.failureReason === 'aborted', JSON.stringify(last));
    t.equal('abort() after the event', await r.abort(), false);
    const log = (await t.serverLog()).filter((e) => e.rawQuery === slow.split('?')[1]);
    t.check('the request was cancelled', log.length > 0 && log.every((e) => e.bytes < 4 << 20), JSON.stringify(log));
  });

  scenario('abort-records', async (t) => {
    const id = t.id();
    const done = '/files/2k?t=' + id;
    const slow = '/files/4m?rate=262144&t=' + id;
    const r = await t.fetch(id, [done, slow]);
    await t.until('the small record completes', async () => {
      const rec = await r.match(done);
      return rec && r.downloaded > 2048;
    });
    await t.sleep(300);
    await r.abort();
    const ev = await t.event(id);
    const [a, b] = [ev.records.find((x) => x.url.includes('/files/2k')), ev.records.find((x) => x.url.includes('/files/4m'))];
    t.check('a completed record stays readable', a && !a.error && a.sha256 === (await t.serverSHA('/files/2k')), JSON.stringify(a));
    t.equal('an incomplete record rejects with AbortError', b && b.error, 'AbortError');
  });

  scenario('abort-during-event', async (t) => {
    const id = t.id();
    const r = await t.fetch(id, '/files/1k?t=' + id);
    const ev = await t.event(id);
    t.equal('abort() in the worker during the event', ev.observed.abortDuring, false);
    t.equal('abort() in the page afterwards', await r.abort(), false);
  });
})();
