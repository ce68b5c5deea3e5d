// pack-check: tickwire-client loaded with `require` (the exports map's "require" condition).
/* global require */
'use strict';
const WebSocket = require('ws');
const sdk = require('tickwire-client');
const { roundtrip } = require('./roundtrip.cjs');

const [url, token, symbol] = process.argv.slice(2);
const resolved = require.resolve('tickwire-client');
if (!resolved.includes('/tickwire-client/dist/cjs/')) {
  console.error(`FAIL client (cjs): require resolved to ${resolved}`);
  process.exit(1);
}
roundtrip('cjs', sdk, WebSocket, { url, token, symbol, wildcard: false }).then(() =>
  console.log(`PASS client (cjs): one update end to end (${resolved})`),
);
