/**
 * Peer: Socket.IO 4 with socket.io-msgpack-parser, websocket transport only.
 * Rooms per topic: "all" gets every batch, a room named after a symbol gets
 * that symbol's ticks. The feed emits `ticks` with an array of ticks.
 * Usage: node bench/peers/socketio.mjs --port 0
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import parser from 'socket.io-msgpack-parser';
import { parseFlags } from './lib.mjs';

const flags = parseFlags(process.argv.slice(2));
const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  parser,
  perMessageDeflate: false,
  maxHttpBufferSize: 16 * 1024 * 1024,
  serveClient: false,
});
const rooms = io.of('/').adapter.rooms;
io.on('connection', (socket) => {
  socket.on('ticks', (batch) => {
    if (!Array.isArray(batch)) return;
    io.to('all').emit('ticks', batch);
    if (rooms.size > 0) {
      let groups;
      for (const t of batch) {
        if (!rooms.has(t.s)) continue;
        groups ??= new Map();
        let g = groups.get(t.s);
        if (!g) groups.set(t.s, (g = []));
        g.push(t);
      }
      if (groups) for (const [sym, g] of groups) io.to(sym).emit('ticks', g);
    }
  });
  socket.on('flush', (ack) => {
    if (typeof ack === 'function') ack('ok');
  });
  socket.on('subscribe', (topics, ack) => {
    if (Array.isArray(topics)) void socket.join(topics.map(String));
    if (typeof ack === 'function') ack('ok');
  });
});
http.listen(Number(flags.port ?? 0), '127.0.0.1', () => {
  console.log(`peer listening on http://127.0.0.1:${http.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
