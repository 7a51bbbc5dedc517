// A worker that stays installing for two seconds and then fails to install: while it installs,
// its registration has no active worker.
self.addEventListener('install', (e) => e.waitUntil(new Promise((resolve, reject) => setTimeout(() => reject(new Error('never installs')), 2000))));
