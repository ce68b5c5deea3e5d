/**
 * Peer: `ws` + JSON. The server parses each JSON batch from the feed and
 * broadcasts JSON.stringify of it once per message to every subscriber
 * (perMessageDeflate off).
 * Usage: node bench/peers/ws-json.mjs --port 0
 */
import { WebSocketServer } from 'ws';
import { parseFlags } from './lib.mjs';

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
        batch = JSON.parse(data.toString());
      } catch {
        return;
      }
      const text = JSON.stringify(batch);
      for (const c of subscribers) c.send(text);
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
