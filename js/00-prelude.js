/* bgfetch: the Background Fetch API for browsers that lack it. */
(function () {
  'use strict';
  const g = self;
  const config = Object.assign({ base: undefined, force: false, debug: false, stallTimeout: undefined }, g.BGFETCH_CONFIG);
  const isServiceWorker = typeof ServiceWorkerGlobalScope !== 'undefined' && g instanceof ServiceWorkerGlobalScope;
  const isWindow = typeof Window !== 'undefined' && g instanceof Window;
  if (g.__bgfetchLoaded) return;
  if ('BackgroundFetchManager' in g && !config.force) return; // native: leave it alone
  g.__bgfetchLoaded = true;

  // Where bgfetch.wasm and wasm_exec.js live: the configured base, else this script's folder.
  const base = (function () {
    if (config.base) return new URL(config.base, g.location.href).href;
    const script = isWindow && document.currentScript && document.currentScript.src;
    // Firefox names a restarted worker's cached scripts by path only ("fn@/dist/bgfetch.js:1:2").
    const stack = new Error().stack || '';
    const fromStack = stack.match(/(?:^|[@(\s])(https?:\/\/[^\s)]+?\.js|\/[^\s):@]*?\.js)(?=:\d)/m);
    const src = script || (fromStack && fromStack[1]) || g.location.href;
    return new URL('.', new URL(src, g.location.href)).href;
  })();

  // Declared before startEarly runs, which names the database.
  const DATABASE_PREFIX = 'bgfetch ';
  const databaseName = (scope) => DATABASE_PREFIX + scope; // the engine's database of a scope
  // A registration's workers: a waiting or installing version may run an engine too.
  const workersOf = (reg) => [reg.active, reg.waiting, reg.installing].filter(Boolean);

  // A worker starts fetching the module and opening its database before the rest of the shim is
  // evaluated: both are on the engine's start-up path.
  const early = isServiceWorker ? startEarly() : null;

  const KEY = Symbol('bgfetch'); // only the polyfill can construct its non-event interfaces
  const MODULE_CACHE = 'bgfetch'; // Cache Storage of the module kept for offline starts (js/60-worker.js)
  const internals = new WeakMap();
  const channelName = (scope) => 'bgfetch:' + scope;

  function state(obj, Cls) {
    const s = internals.get(obj);
    if (!s || !(obj instanceof Cls)) throw new TypeError('Illegal invocation');
    return s;
  }

  // WebIDL's DOMString conversion: a Symbol is a TypeError, where String() would name it.
  function domString(v) {
    if (typeof v === 'symbol') throw new TypeError('Cannot convert a Symbol value to a string.');
    return String(v);
  }

  function illegalConstructor(token) {
    if (token !== KEY) throw new TypeError('Illegal constructor');
  }

  // An interface without a constructor has length 0 (WebIDL); the polyfill's takes its private token.
  function noConstructor(Cls) {
    Object.defineProperty(Cls, 'length', { value: 0 });
  }

  // WebIDL: attributes are enumerable accessors, operations enumerable methods, with a toStringTag.
  function idlInterface(Cls, name, attributes) {
    const proto = Cls.prototype;
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(proto, key);
      d.enumerable = true;
      Object.defineProperty(proto, key, d);
    }
    for (const attr of attributes || []) {
      const get = function () { return state(this, Cls)[attr]; };
      Object.defineProperty(get, 'name', { value: 'get ' + attr }); // as a class getter's is
      Object.defineProperty(proto, attr, { enumerable: true, configurable: true, get });
    }
    Object.defineProperty(proto, Symbol.toStringTag, { value: name, configurable: true });
  }

  function expose(name, value) {
    Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
  }

  // Turns an engine rejection ({name, message, transient}) into the exception the spec names.
  function toError(e) {
    if (e instanceof Error || e instanceof DOMException) return e;
    const name = (e && e.name) || 'TypeError';
    const message = (e && e.message) || String(e);
    if (name === 'TypeError') return e && e.transient ? transientError(message) : new TypeError(message);
    if (name === 'QuotaExceededError' && typeof g.QuotaExceededError === 'function') return new g.QuotaExceededError(message);
    return new DOMException(message, name);
  }

  function plainError(e) {
    return { name: (e && e.name) || 'TypeError', message: (e && e.message) || String(e), transient: !!(e && e.transient) };
  }

  // transientError is a call's failure that the same call may not meet again: the engine stopped
  // under it (and restarts), or the worker gave no answer (it was stopped). Internal readers retry.
  function transientError(message) {
    return Object.assign(new TypeError(message), { transient: true });
  }

  // WebIDL unsigned long long: ToNumber (which refuses a BigInt), truncate, then modulo 2^64; kept
  // below 2^64 so the engine can parse it.
  function unsignedLongLong(v) {
    let n = Math.trunc(+v);
    if (!Number.isFinite(n)) return 0;
    n %= 2 ** 64;
    if (n < 0) n += 2 ** 64;
    return Math.min(n, 18446744073709549568);
  }

  // eventHandler sets an event handler attribute of target as HTML does: its listener is added when
  // it is first set to a non-null value (so it runs after listeners added before), and removed when
  // it is set to null. The listener holds the handler, which handlerOf reads.
  const handlerListeners = new WeakMap(); // target → { type: listener }
  function eventHandler(target, type, fn) {
    const handler = typeof fn === 'function' || (fn !== null && typeof fn === 'object') ? fn : null;
    let all = handlerListeners.get(target);
    if (!all) handlerListeners.set(target, all = {});
    const l = all[type];
    if (handler === null && l) {
      target.removeEventListener(type, l);
      delete all[type];
    } else if (handler !== null && !l) {
      const added = all[type] = function (ev) { if (typeof added.fn === 'function') added.fn.call(target, ev); };
      target.addEventListener(type, added);
    }
    if (all[type]) all[type].fn = handler;
  }

  function handlerOf(target, type) {
    const all = handlerListeners.get(target);
    return all && all[type] ? all[type].fn : null;
  }

  // A WebIDL dictionary argument: undefined and null are the empty one; any other non-object is refused.
  function dictionary(v, name) {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' && typeof v !== 'function') throw new TypeError("The provided value is not of type '" + name + "'.");
    return v;
  }

  // BackgroundFetchUIOptions, as WebIDL converts it: each member read once, in lexicographic order.
  function uiOptions(opts) {
    const icons = imageResources(opts.icons);
    const title = opts.title;
    return { icons, title: title === undefined ? '' : domString(title) };
  }

  // sequence<ImageResource>: members read once each in lexicographic order; src is required and
  // resolved against this realm's URL.
  function imageResources(icons) {
    if (icons === undefined) return [];
    if (icons === null || typeof icons !== 'object' || typeof icons[Symbol.iterator] !== 'function') {
      throw new TypeError('icons must be a sequence of ImageResource.');
    }
    const list = [];
    for (const given of icons) { // each converted as the iteration reaches it
      const icon = dictionary(given, 'ImageResource');
      const out = {};
      for (const k of ['label', 'sizes', 'src', 'type']) {
        const v = icon[k];
        if (v !== undefined) out[k] = domString(v);
        else if (k === 'src') throw new TypeError("Failed to read the 'src' property from 'ImageResource': Required member is undefined.");
      }
      out.src = new URL(out.src, g.location.href).href;
      list.push(out);
    }
    return list;
  }

  const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
