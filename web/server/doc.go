// Package server is the HTTP server that the polyfill's browser tests and demo run against.
//
// Routes:
//
//	GET|HEAD /files/<size>[.ext]  deterministic bytes (size: digits + optional k/m/g), Range/If-Range aware;
//	                              query: v (version, default 1), rate, ignore-range, drop, stall, status,
//	                              header=Name:Value (repeatable), nocors (no CORS headers), gzip (Content-Encoding; Range
//	                              and drop/stall count the encoded bytes, as for a file stored encoded),
//	                              change=<v> (after the drop/stall fired, serve version v: the resource changed),
//	                              stale (with change: version v keeps the first version's ETag and Last-Modified),
//	                              nopreflight (OPTIONS is refused: cross-origin Range requests fail),
//	                              length=<n> (a 200 goes chunked yet declares Content-Length n)
//	GET /status/<code>            that status with "status <code>\n" repeated to 1 KiB
//	ANY /echo                     the request body back, with X-Method and X-Content-Type headers
//	GET /redirect?to=<path>       302 to that path
//	GET /sha256/<rest>            hex SHA-256 of the full 200 body of /<rest> (files and status only)
//	GET /log, POST /log/reset     the /files/ request log as JSON, and clearing it
//	anything else                 static files from the configured mounts
//
// drop and stall fire only on the first GET of an exact path+query, so a retry succeeds.
package server
