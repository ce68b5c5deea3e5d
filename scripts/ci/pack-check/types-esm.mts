// pack-check: the "import" condition's types (dist/clients/ts/src/index.d.ts) compile under strict TS.
import { StreamClient, ErrorCode, type Update, type WebSocketConstructor } from 'tickwire-client';

declare const WebSocket: WebSocketConstructor;
const stream: StreamClient = new StreamClient({
  url: 'ws://localhost:8080',
  WebSocket,
  symbols: ['*'],
});
stream.on('update', (u: Update) => u.p + u.n);
export const code: string = ErrorCode.BadTick;
