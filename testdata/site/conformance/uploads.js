// Requests with bodies: SPEC §3.1 step 6.4, §3.8 step 1 and §3.13 rule 7.
(function () {
  function bodies() {
    const form = new FormData();
    form.append('name', 'Background Fetch');
    form.append('file', new Blob(['file contents'], { type: 'text/plain' }), 'a.txt');
    const bytes = new TextEncoder().encode('typed array body');
    return {
      string: 'Background Fetch!',
      arraybuffer: bytes.buffer.slice(0),
      uint8array: bytes,
      dataview: new DataView(bytes.buffer.slice(0)),
      blob: new Blob(['blob body'], { type: 'application/x-blob' }),
      urlsearchparams: new URLSearchParams({ a: '1', b: 'two' }),
      formdata: form,
    };
  }

  scenario('upload-bodies', async (t) => {
    const id = t.id();
    const requests = [];
    const want = {};
    let total = 0;
    for (const [kind, body] of Object.entries(bodies())) {
      const req = new Request('/echo?kind=' + kind, { method: 'POST', body });
      let bytes;
      try { // the browser itself may not read some bodies (WebKitGTK: a FormData holding a Blob)
        bytes = await req.clone().arrayBuffer();
        t.check('the browser reads a ' + kind + ' body', true, '');
      } catch (e) {
        t.check('the browser reads a ' + kind + ' body', false, `${e.name}: ${e.message}`);
        continue;
      }
      want[kind] = { sha: await t.sha256(bytes), type: req.headers.get('content-type') };
      total += bytes.byteLength;
      requests.push(req);
    }
    const r = await t.fetch(id, requests);
    t.equal('uploadTotal is known when fetch() resolves', r.uploadTotal, total);
    const seen = [];
    r.addEventListener('progress', () => seen.push(r.uploaded));
    const page = await r.matchAll();
    for (const rec of page) {
      const kind = new URL(rec.request.url).searchParams.get('kind');
      const got = await t.sha256(await rec.request.arrayBuffer());
      t.equal('page record.request body ' + kind, got, want[kind].sha);
    }
    const ev = await t.event(id);
    t.equal('succeeds', ev.result, 'success');
    t.equal('uploaded reaches uploadTotal', ev.uploaded, total);
    t.check('uploaded advances with progress events', seen.some((u) => u > 0) && seen[seen.length - 1] === total, JSON.stringify(seen));
    for (const rec of ev.records) {
      const kind = new URL(rec.url).searchParams.get('kind');
      t.equal('method ' + kind, rec.method, 'POST');
      t.equal('record.request body ' + kind, rec.requestSHA256, want[kind].sha);
      t.equal('content type ' + kind, rec.requestContentType, want[kind].type);
      t.equal('the server received it ' + kind, rec.sha256, want[kind].sha);
    }
  });

  // A large file is kept as a Blob from fetch() to the network (not read into the page's heap);
  // it must still reach the server whole, and read back from the record.
  scenario('upload-large-blob', async (t) => {
    const id = t.id();
    const bytes = new Uint8Array(12 << 20); // the test server echoes at most 16 MiB
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i >> 12) & 255;
    const file = new Blob([bytes], { type: 'video/mp4' });
    const sha = await t.sha256(bytes);
    const r = await t.fetch(id, new Request('/echo?kind=large', { method: 'POST', body: file }));
    t.equal('uploadTotal is the file size', r.uploadTotal, bytes.length);
    const [rec] = await r.matchAll();
    t.equal('record.request body', await t.sha256(await rec.request.arrayBuffer()), sha);
    const ev = await t.event(id);
    t.equal('succeeds', ev.result, 'success');
    t.equal('uploaded', ev.uploaded, bytes.length);
    t.equal('content type', ev.records[0].requestContentType, 'video/mp4');
    t.equal('the server received it', ev.records[0].sha256, sha);
  });

  scenario('upload-duplicates-distinguished', async (t) => {
    const id = t.id();
    const r = await t.fetch(id, [new Request('/echo', { method: 'POST', body: 'one' }), new Request('/echo', { method: 'POST', body: 'two' })]);
    const recs = await r.matchAll('/echo', { ignoreMethod: true });
    const texts = await Promise.all(recs.map((x) => x.request.text()));
    t.equal('both records, each with its own body', JSON.stringify(texts.sort()), '["one","two"]');
    await t.event(id);
  });
})();
