// Types of the Background Fetch API as bgfetch installs it (WICG Background Fetch WebIDL).

interface BgfetchConfig {
  /** URL of the folder holding bgfetch.wasm and wasm_exec.js; defaults to the script's own folder. */
  base?: string;
  /** Replace a native implementation instead of leaving it alone. */
  force?: boolean;
  /** Worker only: milliseconds without a byte after which a request is abandoned and retried (30000). */
  stallTimeout?: number;
  /** Worker only: milliseconds a completion event's waitUntil promises may keep its records (300000). */
  eventLimit?: number;
}

interface BackgroundFetchUIOptions {
  icons?: ImageResource[];
  title?: string;
}

interface ImageResource {
  src: string;
  sizes?: string;
  type?: string;
  label?: string;
}

interface BackgroundFetchOptions extends BackgroundFetchUIOptions {
  downloadTotal?: number;
}

type BackgroundFetchResult = "" | "success" | "failure";

type BackgroundFetchFailureReason =
  | ""
  | "aborted"
  | "bad-status"
  | "fetch-error"
  | "quota-exceeded"
  | "download-total-exceeded";

interface BackgroundFetchManager {
  fetch(id: string, requests: RequestInfo | RequestInfo[], options?: BackgroundFetchOptions): Promise<BackgroundFetchRegistration>;
  get(id: string): Promise<BackgroundFetchRegistration | undefined>;
  getIds(): Promise<string[]>;
}

interface BackgroundFetchRegistrationEventMap {
  progress: Event;
}

interface BackgroundFetchRegistration extends EventTarget {
  readonly id: string;
  readonly uploadTotal: number;
  readonly uploaded: number;
  readonly downloadTotal: number;
  readonly downloaded: number;
  readonly result: BackgroundFetchResult;
  readonly failureReason: BackgroundFetchFailureReason;
  readonly recordsAvailable: boolean;
  onprogress: ((this: BackgroundFetchRegistration, ev: Event) => any) | null;
  abort(): Promise<boolean>;
  match(request: RequestInfo, options?: CacheQueryOptions): Promise<BackgroundFetchRecord | undefined>;
  matchAll(request?: RequestInfo, options?: CacheQueryOptions): Promise<BackgroundFetchRecord[]>;
  addEventListener<K extends keyof BackgroundFetchRegistrationEventMap>(type: K, listener: (this: BackgroundFetchRegistration, ev: BackgroundFetchRegistrationEventMap[K]) => any, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

interface BackgroundFetchRecord {
  readonly request: Request;
  readonly responseReady: Promise<Response>;
}

interface BackgroundFetchEventInit extends ExtendableEventInit {
  registration: BackgroundFetchRegistration;
}

interface BackgroundFetchEvent extends ExtendableEvent {
  readonly registration: BackgroundFetchRegistration;
}

interface BackgroundFetchUpdateUIEvent extends BackgroundFetchEvent {
  updateUI(options?: BackgroundFetchUIOptions): Promise<void>;
}

interface ServiceWorkerRegistration {
  readonly backgroundFetch: BackgroundFetchManager;
}

declare var BackgroundFetchManager: { prototype: BackgroundFetchManager };
declare var BackgroundFetchRegistration: { prototype: BackgroundFetchRegistration };
declare var BackgroundFetchRecord: { prototype: BackgroundFetchRecord };
declare var BackgroundFetchEvent: {
  prototype: BackgroundFetchEvent;
  new (type: string, init: BackgroundFetchEventInit): BackgroundFetchEvent;
};
declare var BackgroundFetchUpdateUIEvent: {
  prototype: BackgroundFetchUpdateUIEvent;
  new (type: string, init: BackgroundFetchEventInit): BackgroundFetchUpdateUIEvent;
};

declare var BGFETCH_CONFIG: BgfetchConfig | undefined;

// In a service worker: self.onbackgroundfetchsuccess and friends.
declare var onbackgroundfetchsuccess: ((ev: BackgroundFetchUpdateUIEvent) => any) | null;
declare var onbackgroundfetchfail: ((ev: BackgroundFetchUpdateUIEvent) => any) | null;
declare var onbackgroundfetchabort: ((ev: BackgroundFetchEvent) => any) | null;
declare var onbackgroundfetchclick: ((ev: BackgroundFetchEvent) => any) | null;
