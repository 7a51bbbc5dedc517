  // The polyfill's events are script-constructed, so ExtendableEvent's native waitUntil would
  // refuse them: these classes keep their own "active" bookkeeping (SPEC §3.9).
  const eventStates = new WeakMap();
  const uiEvents = new WeakSet(); // the BackgroundFetchUpdateUIEvents (brand check of updateUI)
  const isActive = (es) => !es.ended && (es.dispatching || es.pending > 0);

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
        if (arguments.length < 1) throw new TypeError("Failed to execute 'waitUntil': 1 argument required.");
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
        uiEvents.add(this);
      }

      async updateUI(options = {}) {
        const es = eventStates.get(this);
        if (!es || !uiEvents.has(this)) throw new TypeError('Illegal invocation'); // an abort event is no UI event
        uiOptions(dictionary(options, 'BackgroundFetchUIOptions')); // converted first (WebIDL): a bad icon is a TypeError
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
      Object.defineProperty(ServiceWorkerGlobalScope.prototype, 'on' + type, {
        enumerable: true, configurable: true,
        get() { return handlerOf(this, type); },
        set(fn) { eventHandler(this, type, fn); },
      });
    }
  }
