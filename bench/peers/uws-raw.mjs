/**
 * Peer: raw uWebSockets.js. The feed's bytes are published unchanged to the
 * topic "all" (no validation, no sequencing): the ceiling for tickwire's stack.
 * Usage: node bench/peers/uws-raw.mjs --port 0
 */
import { uws as uWS } from '../../dist/src/server/uws.js';
import { parseFlags } from './lib.mjs';

// The server's own loader (built by `npm run build`): the native binary for this Node, checked.
const flags = parseFlags(process.argv.slice(2));
const BACKPRESSURE = 256 * 1024 * 1024;

const app = uWS.App();
app.ws('/feed', {
  compression: uWS.DISABLED,
  maxPayloadLength: 16 * 1024 * 1024,
  idleTimeout: 120,
  message: (_ws, message, isBinary) => {
    app.publish('all', message, isBinary);
  },
});
app.ws('/stream', {
  compression: uWS.DISABLED,
  maxPayloadLength: 16 * 1024,
  maxBackpressure: BACKPRESSURE,
  closeOnBackpressureLimit: true,
  idleTimeout: 120,
  open: (ws) => {
    ws.subscribe('all');
    ws.send('ready', false);
  },
});
app.listen('127.0.0.1', Number(flags.port ?? 0), (token) => {
  if (!token) {
    console.error('listen failed');
    process.exit(1);
  }
  console.log(`peer listening on http://127.0.0.1:${uWS.us_socket_local_port(token)}`);
});
process.on('SIGTERM', () => process.exit(0));
