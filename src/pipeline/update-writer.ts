/**
 * Writers for the bytes the server adds to a tick: MessagePack array and map
 * headers, and the "n"/"r" pair. Plain index writes into a caller's buffer;
 * nothing is allocated.
 */
export function writeArrayHeader(out: Uint8Array, w: number, n: number): number {
  if (n < 16) {
    out[w] = 0x90 | n;
    return w + 1;
  }
  if (n < 0x10000) {
    out[w] = 0xdc;
    out[w + 1] = n >>> 8;
    out[w + 2] = n & 0xff;
    return w + 3;
  }
  out[w] = 0xdd;
  out[w + 1] = n >>> 24;
  out[w + 2] = (n >>> 16) & 0xff;
  out[w + 3] = (n >>> 8) & 0xff;
  out[w + 4] = n & 0xff;
  return w + 5;
}

export function writeMapHeader(out: Uint8Array, w: number, n: number): number {
  if (n < 16) {
    out[w] = 0x80 | n;
    return w + 1;
  }
  // Ticks have at most 64 keys, so map16 always suffices.
  out[w] = 0xde;
  out[w + 1] = n >>> 8;
  out[w + 2] = n & 0xff;
  return w + 3;
}

export function writeU32(out: Uint8Array, w: number, v: number): void {
  out[w] = v >>> 24;
  out[w + 1] = (v >>> 16) & 0xff;
  out[w + 2] = (v >>> 8) & 0xff;
  out[w + 3] = v & 0xff;
}

/**
 * Appends "n": seq (uint32, or uint64 past 2^32) and "r": time (uint64).
 * A fixed width keeps each symbol's update length stable, which lets the
 * last-value cache reuse its view.
 */
export function writeSeqAndTime(
  out: Uint8Array,
  w: number,
  seq: number,
  rHi: number,
  rLo: number,
): number {
  out[w] = 0xa1;
  out[w + 1] = 0x6e; // "n"
  if (seq <= 0xffffffff) {
    out[w + 2] = 0xce;
    writeU32(out, w + 3, seq);
    w += 7;
  } else {
    out[w + 2] = 0xcf;
    writeU32(out, w + 3, Math.floor(seq / 4294967296));
    writeU32(out, w + 7, seq >>> 0);
    w += 11;
  }
  out[w] = 0xa1;
  out[w + 1] = 0x72; // "r"
  out[w + 2] = 0xcf;
  writeU32(out, w + 3, rHi);
  writeU32(out, w + 7, rLo);
  return w + 11;
}
