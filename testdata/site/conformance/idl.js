// WebIDL shape: SPEC §1 and §1.2, in every realm the IDL exposes the interfaces to.
(function () {
  const inAllRealms = ['BackgroundFetchManager', 'BackgroundFetchRegistration', 'BackgroundFetchRecord'];
  const serviceWorkerOnly = ['BackgroundFetchEvent', 'BackgroundFetchUpdateUIEvent'];

  function shape(t, d) {
    for (const [name, a] of Object.entries(d.attributes)) {
      const settable = name.endsWith('.onprogress');
      t.check('attribute ' + name, a && a.accessor && a.enumerable && a.configurable && a.setter === settable &&
        a.name === 'get ' + name.split('.')[1],
        'want an enumerable, configurable accessor named "get …"' + (settable ? ' with a setter' : ', read-only') + ', got ' + JSON.stringify(a));
    }
    for (const [name, o] of Object.entries(d.operations)) {
      t.check('operation ' + name, o && o.length === o.want && o.enumerable && o.writable && o.configurable,
        'want length ' + (o && o.want) + ', enumerable, writable, configurable; got ' + JSON.stringify(o));
    }
    for (const [name, tag] of Object.entries(d.tags)) t.equal('toStringTag ' + name, tag, name);
    for (const [name, n] of Object.entries(d.lengths)) t.equal('interface length ' + name, n, 0);
  }

  function workerRealm() {
    return new Promise((resolve, reject) => {
      const w = new Worker('/conformance/worker.js' + (window.NATIVE ? '?native=1' : ''));
      w.onmessage = (e) => { resolve(e.data); w.terminate(); };
      w.onerror = (e) => reject(new Error('worker failed: ' + e.message));
    });
  }

  scenario('idl-window-exposure', async (t) => {
    const d = describeIDL('window');
    for (const n of inAllRealms) t.check('exposes ' + n, d.exposed[n], 'missing');
    for (const n of serviceWorkerOnly) t.check('hides ' + n, !d.exposed[n], 'exposed in a window');
    t.check('ServiceWorkerRegistration.backgroundFetch', d.registrationGetter && d.registrationGetter.accessor &&
      !d.registrationGetter.setter && d.registrationGetter.enumerable, JSON.stringify(d.registrationGetter));
    const reg = await t.reg();
    t.equal('same manager', reg.backgroundFetch, reg.backgroundFetch);
    t.check('manager class', reg.backgroundFetch instanceof BackgroundFetchManager, 'not a BackgroundFetchManager');
  });

  scenario('idl-window-shape', async (t) => {
    shape(t, describeIDL('window'));
  });

  scenario('idl-no-constructors', async (t) => {
    const d = describeIDL('window');
    for (const n of inAllRealms) t.equal('new ' + n, d.constructs[n], 'TypeError');
    t.equal('registration is an EventTarget', d.parents.BackgroundFetchRegistration, 'EventTarget');
  });

  scenario('idl-dedicated-worker', async (t) => {
    const d = await workerRealm();
    for (const n of inAllRealms) t.check('exposes ' + n, d.exposed[n], 'missing in a dedicated worker');
    for (const n of serviceWorkerOnly) t.check('hides ' + n, !d.exposed[n], 'exposed in a dedicated worker');
    shape(t, d);
  });

  scenario('idl-service-worker', async (t) => {
    const d = await t.worker('idl');
    for (const n of inAllRealms.concat(serviceWorkerOnly)) t.check('exposes ' + n, d.exposed[n], 'missing in the service worker');
    shape(t, d);
    for (const n of inAllRealms) t.equal('new ' + n, d.constructs[n], 'TypeError');
    for (const n of serviceWorkerOnly) t.equal('new ' + n + '() without init', d.constructs[n], 'TypeError');
    t.equal('BackgroundFetchEvent extends', d.parents.BackgroundFetchEvent, 'ExtendableEvent');
    t.equal('BackgroundFetchUpdateUIEvent extends', d.parents.BackgroundFetchUpdateUIEvent, 'BackgroundFetchEvent');
    t.equal('event constructor lengths', JSON.stringify(d.eventCtorLength), '[2,2]');
    for (const h of ['success', 'fail', 'abort', 'click']) {
      const a = d.handlers[h];
      t.check('onbackgroundfetch' + h, a && a.accessor && a.enumerable, JSON.stringify(a));
    }
  });

  scenario('idl-tostring', async (t) => {
    const id = t.id();
    const r = await t.fetch(id, '/files/1k?t=' + id);
    t.equal('registration', Object.prototype.toString.call(r), '[object BackgroundFetchRegistration]');
    t.equal('manager', Object.prototype.toString.call((await t.reg()).backgroundFetch), '[object BackgroundFetchManager]');
    const rec = await r.match('/files/1k?t=' + id);
    t.equal('record', Object.prototype.toString.call(rec), '[object BackgroundFetchRecord]');
    t.check('record.request is a Request', rec && rec.request instanceof Request, 'not a Request');
    t.check('record.responseReady is a Promise', rec && rec.responseReady instanceof Promise, 'not a Promise');
    t.equal('responseReady is the same promise', rec && rec.responseReady, rec && rec.responseReady);
    await t.event(id);
  });

  scenario('idl-brand-checks', async (t) => {
    const fake = Object.create(BackgroundFetchRegistration.prototype);
    await t.rejects('abort on a non-registration', () => BackgroundFetchRegistration.prototype.abort.call(fake), 'TypeError');
    await t.rejects('getIds on a non-manager', () => BackgroundFetchManager.prototype.getIds.call({}), 'TypeError');
    let threw = null;
    try { Object.getOwnPropertyDescriptor(BackgroundFetchRegistration.prototype, 'id').get.call({}); } catch (e) { threw = e; }
    t.check('id getter on a non-registration throws TypeError', threw instanceof TypeError, String(threw));
    let ready = null;
    try { ready = Object.getOwnPropertyDescriptor(BackgroundFetchRecord.prototype, 'responseReady').get.call({}); } catch (e) { ready = e; }
    t.check('responseReady on a non-record is a promise', ready instanceof Promise, String(ready));
    if (ready instanceof Promise) await t.rejects('which rejects with TypeError', () => ready, 'TypeError');
  });

  scenario('idl-same-registration-object', async (t) => {
    const id = t.id();
    const bf = (await t.reg()).backgroundFetch;
    const r = await bf.fetch(id, '/files/256k?rate=262144&t=' + id);
    const again = await bf.get(id);
    t.check('fetch() and get() give the same object', again === r, 'two objects for one fetch in one realm');
    t.check('get() twice gives the same object', (await bf.get(id)) === again, 'two objects from get()');
    const w = await t.worker('get', { id });
    t.check('the worker finds it', w.found, 'get() in the worker found nothing');
    t.check('get() twice in the worker gives the same object', w.same, 'two objects from get() in the worker');
    const ev = await t.event(id);
    t.check('the event carries the worker\'s object', ev.observed.sameAsKept === true, 'event.registration is another object');
  });

  // HTML adds an event handler's listener when it is first set to non-null, and removes it when set
  // to null: listeners added before it run first.
  scenario('idl-progress-handler-order', async (t) => {
    const id = t.id();
    const r = await t.fetch(id, '/files/256k?rate=262144&t=' + id);
    const order = [];
    r.onprogress = null;
    r.addEventListener('progress', () => order.push('listener'));
    r.onprogress = () => order.push('dropped');
    r.onprogress = null;
    r.addEventListener('progress', () => order.push('second listener'));
    r.onprogress = () => order.push('handler');
    await t.event(id);
    t.equal('in the order they were added', order.slice(0, 3).join(','), 'listener,second listener,handler');
  });

  scenario('idl-progress-handler', async (t) => {
    const id = t.id();
    const r = await t.fetch(id, '/files/64k?t=' + id);
    t.equal('onprogress starts null', r.onprogress, null);
    let calls = 0;
    let self = null;
    r.onprogress = function (e) { calls++; self = this; t.lastEvent = e; };
    t.equal('onprogress reads back', typeof r.onprogress, 'function');
    await t.event(id);
    t.check('onprogress is called', calls > 0, 'never called');
    t.check('with the registration as this', self === r, 'wrong this');
    t.check('with a plain progress Event', t.lastEvent && t.lastEvent.type === 'progress' && !t.lastEvent.cancelable && !t.lastEvent.bubbles, 'wrong event');
  });
})();
