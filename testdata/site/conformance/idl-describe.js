// Describes the Background Fetch WebIDL shape as this realm (window, worker, service worker) has it.
self.describeIDL = function describeIDL(realm) {
  const names = ['BackgroundFetchManager', 'BackgroundFetchRegistration', 'BackgroundFetchRecord',
    'BackgroundFetchEvent', 'BackgroundFetchUpdateUIEvent'];
  const attributes = {
    BackgroundFetchRegistration: ['id', 'uploadTotal', 'uploaded', 'downloadTotal', 'downloaded', 'result',
      'failureReason', 'recordsAvailable', 'onprogress'],
    BackgroundFetchRecord: ['request', 'responseReady'],
    BackgroundFetchEvent: ['registration'],
  };
  const operations = {
    BackgroundFetchManager: { fetch: 2, get: 1, getIds: 0 },
    BackgroundFetchRegistration: { abort: 0, match: 1, matchAll: 0 },
    BackgroundFetchUpdateUIEvent: { updateUI: 0 },
  };
  const out = { realm, exposed: {}, attributes: {}, operations: {}, constructs: {}, tags: {}, parents: {}, handlers: {}, lengths: {}, registrationGetter: null };
  for (const n of names) out.exposed[n] = typeof self[n] === 'function';
  for (const [iface, attrs] of Object.entries(attributes)) {
    if (!out.exposed[iface]) continue;
    for (const a of attrs) {
      const d = Object.getOwnPropertyDescriptor(self[iface].prototype, a);
      out.attributes[iface + '.' + a] = d ? { accessor: typeof d.get === 'function', setter: typeof d.set === 'function',
        enumerable: d.enumerable, configurable: d.configurable, name: d.get && d.get.name } : null;
    }
  }
  for (const [iface, ops] of Object.entries(operations)) {
    if (!out.exposed[iface]) continue;
    for (const [op, length] of Object.entries(ops)) {
      const d = Object.getOwnPropertyDescriptor(self[iface].prototype, op);
      out.operations[iface + '.' + op] = d ? { length: d.value.length, want: length, enumerable: d.enumerable,
        writable: d.writable, configurable: d.configurable } : null;
    }
  }
  for (const n of names) {
    if (!out.exposed[n]) continue;
    try {
      new self[n]();
      out.constructs[n] = 'ok';
    } catch (e) {
      out.constructs[n] = e instanceof TypeError ? 'TypeError' : 'other:' + (e && e.name);
    }
    if (!n.endsWith('Event')) out.lengths[n] = self[n].length; // no constructor: 0
    const tag = Object.getOwnPropertyDescriptor(self[n].prototype, Symbol.toStringTag);
    out.tags[n] = tag ? tag.value : null;
    out.parents[n] = Object.getPrototypeOf(self[n].prototype).constructor.name;
  }
  if (out.exposed.BackgroundFetchEvent) out.eventCtorLength = [self.BackgroundFetchEvent.length, self.BackgroundFetchUpdateUIEvent.length];
  if (typeof ServiceWorkerRegistration === 'function') {
    const d = Object.getOwnPropertyDescriptor(ServiceWorkerRegistration.prototype, 'backgroundFetch');
    out.registrationGetter = d ? { accessor: typeof d.get === 'function', setter: typeof d.set === 'function', enumerable: d.enumerable } : null;
  }
  if (typeof ServiceWorkerGlobalScope === 'function') {
    for (const h of ['success', 'fail', 'abort', 'click']) {
      const d = Object.getOwnPropertyDescriptor(ServiceWorkerGlobalScope.prototype, 'onbackgroundfetch' + h);
      out.handlers[h] = d ? { accessor: typeof d.get === 'function' && typeof d.set === 'function', enumerable: d.enumerable } : null;
    }
  }
  return out;
};
