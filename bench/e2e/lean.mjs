/**
 * A lean MessagePack reader for the benchmark's subscribers (opt-in with
 * `--decode lean`): it walks every byte of an update frame (one tick map, or
 * an array of them) but materializes only what the subscriber checks, the
 * symbol `s`, the feed's sequence `k` and the times `ts` and `sa`; every other
 * key and value is skipped. It exists because the one load core spends most of
 * its time in full decodes (msgpackr measured 279 ns per 6-key tick and 375 ns
 * per tickwire update with `n` and `r`), which caps every server's measured
 * throughput. Used the same way for every MessagePack server (tickwire, raw
 * uWS, ws+msgpack); JSON and Socket.IO clients still decode fully.
 */

const TEXT = new globalThis.TextDecoder();

/**
 * Calls `onTick(s, k, ts, sa)` for each tick map in `buf` (a map or an array
 * of maps); maps with an `op` key (control replies) are not ticks. Returns the
 * number of ticks seen. Throws on malformed or truncated input.
 */
export function forEachTick(buf, onTick) {
  const st = { buf, pos: 0, dv: new DataView(buf.buffer, buf.byteOffset, buf.byteLength) };
  const b = buf[0];
  let count = 0;
  let n;
  if (b >= 0x90 && b <= 0x9f) {
    n = b & 0x0f;
    st.pos = 1;
  } else if (b === 0xdc) {
    n = st.dv.getUint16(1);
    st.pos = 3;
  } else if (b === 0xdd) {
    n = st.dv.getUint32(1);
    st.pos = 5;
  } else {
    if (readTick(st, onTick)) count++;
    end(st);
    return count;
  }
  for (let i = 0; i < n; i++) if (readTick(st, onTick)) count++;
  end(st);
  return count;
}

function end(st) {
  if (st.pos !== st.buf.length) throw new Error('trailing or truncated bytes');
}

function mapSize(st) {
  const b = st.buf[st.pos];
  if (b >= 0x80 && b <= 0x8f) {
    st.pos += 1;
    return b & 0x0f;
  }
  if (b === 0xde) {
    st.pos += 3;
    return st.dv.getUint16(st.pos - 2);
  }
  if (b === 0xdf) {
    st.pos += 5;
    return st.dv.getUint32(st.pos - 4);
  }
  throw new Error(`expected a map at ${st.pos}`);
}

function readTick(st, onTick) {
  const n = mapSize(st);
  let s;
  let k;
  let ts;
  let sa;
  let control = false;
  const buf = st.buf;
  for (let i = 0; i < n; i++) {
    const kb = buf[st.pos];
    // Keys of ticks are short strings: only fixstr keys of 1 or 2 bytes matter here.
    if (kb === 0xa1) {
      const c = buf[st.pos + 1];
      st.pos += 2;
      if (c === 0x73) s = readValue(st, true);
      else if (c === 0x6b) k = readValue(st, false);
      else skip(st);
    } else if (kb === 0xa2) {
      const c0 = buf[st.pos + 1];
      const c1 = buf[st.pos + 2];
      st.pos += 3;
      if (c0 === 0x74 && c1 === 0x73) ts = readValue(st, false);
      else if (c0 === 0x73 && c1 === 0x61) sa = readValue(st, false);
      else {
        if (c0 === 0x6f && c1 === 0x70) control = true;
        skip(st);
      }
    } else {
      skip(st);
      skip(st);
    }
  }
  if (control) return false;
  onTick(s, k, ts, sa);
  return true;
}

/** Reads a number, or a string when `str` (the symbol). */
function readValue(st, str) {
  const buf = st.buf;
  const dv = st.dv;
  const b = buf[st.pos];
  if (str) {
    let len;
    let at;
    if (b >= 0xa0 && b <= 0xbf) {
      len = b & 0x1f;
      at = st.pos + 1;
    } else if (b === 0xd9) {
      len = buf[st.pos + 1];
      at = st.pos + 2;
    } else if (b === 0xda) {
      len = dv.getUint16(st.pos + 1);
      at = st.pos + 3;
    } else throw new Error(`expected a string at ${st.pos}`);
    st.pos = at + len;
    if (st.pos > buf.length) throw new Error('truncated string');
    return TEXT.decode(buf.subarray(at, at + len));
  }
  const p = st.pos;
  if (b <= 0x7f) {
    st.pos += 1;
    return b;
  }
  if (b >= 0xe0) {
    st.pos += 1;
    return b - 0x100;
  }
  switch (b) {
    case 0xcc:
      st.pos += 2;
      return buf[p + 1];
    case 0xcd:
      st.pos += 3;
      return dv.getUint16(p + 1);
    case 0xce:
      st.pos += 5;
      return dv.getUint32(p + 1);
    case 0xcf:
      st.pos += 9;
      return dv.getUint32(p + 1) * 4294967296 + dv.getUint32(p + 5);
    case 0xd0:
      st.pos += 2;
      return dv.getInt8(p + 1);
    case 0xd1:
      st.pos += 3;
      return dv.getInt16(p + 1);
    case 0xd2:
      st.pos += 5;
      return dv.getInt32(p + 1);
    case 0xd3:
      st.pos += 9;
      return dv.getInt32(p + 1) * 4294967296 + dv.getUint32(p + 5);
    case 0xca:
      st.pos += 5;
      return dv.getFloat32(p + 1);
    case 0xcb:
      st.pos += 9;
      return dv.getFloat64(p + 1);
    default:
      throw new Error(`expected a number at ${p}`);
  }
}

/** Skips one value of any type. */
function skip(st) {
  const buf = st.buf;
  const dv = st.dv;
  const p = st.pos;
  const b = buf[p];
  if (b === undefined) throw new Error('truncated');
  if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) st.pos += 1;
  else if (b >= 0xa0 && b <= 0xbf) st.pos += 1 + (b & 0x1f);
  else if (b >= 0x80 && b <= 0x8f) {
    st.pos += 1;
    for (let i = 0; i < (b & 0x0f) * 2; i++) skip(st);
  } else if (b >= 0x90 && b <= 0x9f) {
    st.pos += 1;
    for (let i = 0; i < (b & 0x0f); i++) skip(st);
  } else
    switch (b) {
      case 0xcc:
      case 0xd0:
        st.pos += 2;
        break;
      case 0xcd:
      case 0xd1:
        st.pos += 3;
        break;
      case 0xce:
      case 0xd2:
      case 0xca:
        st.pos += 5;
        break;
      case 0xcf:
      case 0xd3:
      case 0xcb:
        st.pos += 9;
        break;
      case 0xd9:
      case 0xc4:
        st.pos += 2 + buf[p + 1];
        break;
      case 0xda:
      case 0xc5:
        st.pos += 3 + dv.getUint16(p + 1);
        break;
      case 0xdb:
      case 0xc6:
        st.pos += 5 + dv.getUint32(p + 1);
        break;
      case 0xdc: {
        const n = dv.getUint16(p + 1);
        st.pos += 3;
        for (let i = 0; i < n; i++) skip(st);
        break;
      }
      case 0xde: {
        const n = dv.getUint16(p + 1);
        st.pos += 3;
        for (let i = 0; i < n * 2; i++) skip(st);
        break;
      }
      default:
        throw new Error(`unsupported MessagePack type 0x${b.toString(16)} at ${p}`);
    }
  if (st.pos > buf.length) throw new Error('truncated');
}
