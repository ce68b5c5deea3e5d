// pack-check: tickwire-client loaded with `import` (the exports map's "import" condition).
import WebSocket from 'ws';
import * as sdk from 'tickwire-client';
import { roundtrip } from './roundtrip.cjs';

const [url, token, symbol] = process.argv.slice(2);
const resolved = import.meta.resolve('tickwire-client');
if (!resolved.includes('/tickwire-client/dist/clients/')) {
  console.error(`FAIL client (esm): import resolved to ${resolved}`);
  process.exit(1);
}
await roundtrip('esm', sdk, WebSocket, { url, token, symbol, wildcard: true });
console.log(`PASS client (esm): one update end to end, plus the demo feed (${resolved})`);
