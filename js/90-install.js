  if (isServiceWorker) installWorker();
  else if (typeof ServiceWorkerRegistration !== 'undefined') installPage();
})();
