import { Packr, Unpackr } from 'msgpackr';

/** msgpackr set up for tickwire: plain maps (no records/extensions), uint64 as number. */
export const packr = new Packr({ useRecords: false });
export const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
});

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Decodes a received frame: text frames as JSON, binary frames as MessagePack. */
export function decodeFrame(data: unknown): unknown {
  if (typeof data === 'string') return JSON.parse(data) as unknown;
  if (data instanceof ArrayBuffer) return unpackr.unpack(new Uint8Array(data));
  if (data instanceof Uint8Array) return unpackr.unpack(data);
  throw new TypeError('unsupported frame type (set binaryType to "arraybuffer")');
}
