/**
 * Peer: `ws` + MessagePack. The server decodes each batch from the feed,
 * encodes it once and sends the same buffer to every subscriber
 * (perMessageDeflate off).
 * Usage: node bench/peers/ws-msgpack.mjs --port 0
 */
import { WebSocketServer } from 'ws';
import { packr, parseFlags, unpackr } from './lib.mjs';

const flags = parseFlags(process.argv.slice(2));
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: Number(flags.port ?? 0),
  perMessageDeflate: false,
  maxPayload: 16 * 1024 * 1024,
});
const subscribers = new Set();
wss.on('connection', (ws, req) => {
  if (req.url?.startsWith('/feed')) {
    ws.on('message', (data) => {
      let batch;
      try {
        batch = unpackr.unpack(data);
      } catch {
        return;
      }
      const buf = packr.pack(batch);
      for (const c of subscribers) c.send(buf, { binary: true });
    });
  } else {
    subscribers.add(ws);
    ws.on('close', () => subscribers.delete(ws));
    ws.send('ready');
  }
});
wss.on('listening', () => {
  console.log(`peer listening on http://127.0.0.1:${wss.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
