  // The polyfill's events are script-constructed, so ExtendableEvent's native waitUntil would
  // refuse them: these classes keep their own "active" bookkeeping (SPEC §3.9).
  const eventStates = new WeakMap();
  const isActive = (es) => es.dispatching || es.pending > 0;

  function settleCheck(es) {
    if (isActive(es)) return;
    for (const resolve of es.waiters.splice(0)) resolve();
  }

  function installEvents() {
    class BackgroundFetchEvent extends ExtendableEvent {
      constructor(type, init) {
        if (arguments.length < 2) throw new TypeError("Failed to construct 'BackgroundFetchEvent': 2 arguments required.");
        if (!init || !(init.registration instanceof BackgroundFetchRegistration)) {
          throw new TypeError("Failed to construct 'BackgroundFetchEvent': required member registration is not a BackgroundFetchRegistration.");
        }
        super(type, init);
        internals.set(this, { registration: init.registration });
        eventStates.set(this, { dispatching: false, pending: 0, waiters: [], uiUpdated: false });
      }

      waitUntil(promise) {
        const es = eventStates.get(this);
        if (!es) throw new TypeError('Illegal invocation');
        if (!isActive(es)) throw new DOMException('The event handler is already finished.', 'InvalidStateError');
        es.pending++;
        const done = () => queueMicrotask(() => { es.pending--; settleCheck(es); });
        Promise.resolve(promise).then(done, done);
      }
    }
    idlInterface(BackgroundFetchEvent, 'BackgroundFetchEvent', ['registration']);

    class BackgroundFetchUpdateUIEvent extends BackgroundFetchEvent {
      constructor(type, init) {
        super(type, init);
      }

      async updateUI(options = {}) {
        const es = eventStates.get(this);
        if (!es) throw new TypeError('Illegal invocation');
        const opts = options === null || options === undefined ? {} : options;
        imageResources(opts.icons); // the dictionary is converted first (WebIDL), so a bad icon is a TypeError
        if (opts.title !== undefined) domString(opts.title);
        if (es.uiUpdated || !isActive(es)) {
          throw new DOMException('updateUI may be called once, while the event is active.', 'InvalidStateError');
        }
        es.uiUpdated = true; // there is no browser UI to update: the call is accepted and remembered
      }
    }
    idlInterface(BackgroundFetchUpdateUIEvent, 'BackgroundFetchUpdateUIEvent');
    expose('BackgroundFetchEvent', BackgroundFetchEvent);
    expose('BackgroundFetchUpdateUIEvent', BackgroundFetchUpdateUIEvent);

    for (const name of ['success', 'fail', 'abort', 'click']) {
      const type = 'backgroundfetch' + name;
      const handlers = new WeakMap();
      Object.defineProperty(ServiceWorkerGlobalScope.prototype, 'on' + type, {
        enumerable: true, configurable: true,
        get() { return handlers.has(this) ? handlers.get(this).fn : null; },
        set(fn) {
          let h = handlers.get(this);
          if (!h) {
            h = { fn: null };
            handlers.set(this, h);
            this.addEventListener(type, (ev) => { if (typeof h.fn === 'function') h.fn.call(this, ev); });
          }
          h.fn = (typeof fn === 'function' || (fn && typeof fn === 'object')) ? fn : null;
        },
      });
    }
  }
