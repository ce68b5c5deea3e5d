// pack-check: one tick end to end through the installed packages. A
// StreamClient subscribes, a FeedClient publishes one tick with an ack, and
// the update must come back with the same symbol, price and size. Shared by
// esm.mjs (import) and cjs.cjs (require), which pass in what they loaded.
/* global module */
'use strict';

/**
 * @param {string} label  'esm' or 'cjs', for the PASS/FAIL line
 * @param {{ FeedClient: any, StreamClient: any }} sdk  tickwire-client as loaded
 * @param {unknown} WebSocket  the `ws` constructor
 * @param {{ url: string, token: string, symbol: string, wildcard: boolean }} opts
 *   wildcard: subscribe to "*" and also wait for an update of another symbol
 *   (the server's --demo feed)
 */
async function roundtrip(label, sdk, WebSocket, { url, token, symbol, wildcard }) {
  const fail = (why) => {
    console.error(`FAIL client (${label}): ${why}`);
    process.exit(1);
  };
  // A bound on a hung check, not a speed assertion.
  const timer = setTimeout(() => fail('no update within 30 s'), 30_000);
  const tick = { s: symbol, p: 101.25, q: 7, t: Date.now() * 1000 };
  const stream = new sdk.StreamClient({
    url,
    WebSocket,
    symbols: [wildcard ? '*' : symbol],
    reconnect: false,
  });
  stream.on('error', (e) => fail(`stream: ${e.code}: ${e.message}`));
  let own = false;
  let other = !wildcard;
  const done = new Promise((resolve) => {
    stream.on('update', (u) => {
      if (u.s === symbol) {
        if (u.p !== tick.p || u.q !== tick.q) fail(`update differs: ${JSON.stringify(u)}`);
        own = true;
      } else if (wildcard) {
        other = true;
      }
      if (own && other) resolve();
    });
  });
  await new Promise((resolve) => stream.on('subscribed', resolve));
  const feed = new sdk.FeedClient({ url, token, WebSocket, ack: true, reconnect: false });
  feed.on('error', (e) => fail(`feed: ${e.code}: ${e.message}`));
  const ack = await feed.publish(tick);
  if (ack.accepted !== 1) fail(`ack ${JSON.stringify(ack)}`);
  await done;
  clearTimeout(timer);
  await Promise.all([feed.close(), stream.close()]);
}

module.exports = { roundtrip };
