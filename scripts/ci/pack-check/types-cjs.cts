// pack-check: the "require" condition's types (dist/cjs/.../index.d.ts) compile under strict TS;
// under "module": "node16", types that are ESM would fail here (TS1471).
import tw = require('tickwire-client');

declare const WebSocket: tw.WebSocketConstructor;
const stream: tw.StreamClient = new tw.StreamClient({ url: 'ws://localhost:8080', WebSocket });
stream.on('update', (u: tw.Update) => u.p + u.n);
export const code: string = tw.ErrorCode.BadTick;
