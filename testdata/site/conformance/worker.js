// A dedicated worker: reports the Background Fetch interfaces it sees.
if (!self.location.search.includes('native=1')) importScripts('/dist/bgfetch.js');
importScripts('/conformance/idl-describe.js');
postMessage(self.describeIDL('worker'));
