// Demo page: starts background fetches and shows their progress; the worker stores results in a cache.
const list = document.getElementById('fetches');
const finished = document.getElementById('finished');
const shown = new Map(); // id → list item
const mib = (n) => (n / 1048576).toFixed(1) + ' MiB';

document.getElementById('impl').textContent = window.__bgfetchLoaded
  ? 'here it is provided by the bgfetch polyfill.' : 'here it is the browser\'s native implementation.';

async function registration() {
  await navigator.serviceWorker.register('/sw.js');
  return navigator.serviceWorker.ready;
}

function show(reg) {
  if (list.firstElementChild && !shown.size) list.textContent = '';
  let li = shown.get(reg.id);
  if (!li) {
    li = document.createElement('li');
    li.innerHTML = '<b></b> <span></span><br><progress></progress>';
    li.querySelector('b').textContent = reg.id;
    list.append(li);
    shown.set(reg.id, li);
    reg.addEventListener('progress', () => update(reg, li));
  }
  update(reg, li);
}

function update(reg, li) {
  const bar = li.querySelector('progress');
  const total = reg.downloadTotal || Number(li.dataset.total) || 0;
  if (total) { bar.max = total; bar.value = reg.downloaded; } else bar.removeAttribute('value');
  let text = mib(reg.downloaded) + (total ? ' of ' + mib(total) : '');
  if (reg.result === 'success') { text += ': done'; li.className = 'done'; bar.value = bar.max = 1; }
  if (reg.result === 'failure') { text += ': failed (' + reg.failureReason + ')'; li.className = 'failed'; }
  li.querySelector('span').textContent = text;
}

async function start(id, urls, downloadTotal) {
  const reg = await registration();
  try {
    show(await reg.backgroundFetch.fetch(id + '-' + Date.now().toString(36), urls, { title: id, downloadTotal }));
  } catch (e) {
    alert(e.name + ': ' + e.message);
  }
}

document.getElementById('start').onclick = () =>
  start('samples', ['/files/1m.bin', '/files/32m.bin', '/files/64m.bin'], 97 << 20);
document.getElementById('slow').onclick = () =>
  start('slow', ['/files/32m.bin?rate=2097152'], 32 << 20);
document.getElementById('missing').onclick = () =>
  start('missing', ['/files/1k.bin', '/status/404']);

async function refreshFinished() {
  const cache = await caches.open('downloads');
  const keys = await cache.keys();
  finished.textContent = keys.length ? '' : 'none yet';
  for (const req of keys) {
    const res = await cache.match(req);
    const li = document.createElement('li');
    li.textContent = `${new URL(req.url).pathname} — ${res.status} — ${res.headers.get('x-bytes') || '?'} bytes`;
    finished.append(li);
  }
}

navigator.serviceWorker.addEventListener('message', (e) => { if (e.data === 'downloads-changed') refreshFinished(); });

// Fetches already running (started before a reload) show up again.
registration().then(async (reg) => {
  for (const id of await reg.backgroundFetch.getIds()) {
    const r = await reg.backgroundFetch.get(id);
    if (r) show(r);
  }
  refreshFinished();
});
