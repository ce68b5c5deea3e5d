/**
 * protocol/echo: finding a control message's `id` in the bytes or text the
 * client sent, so a pong can return it exactly.
 */
import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { jsonMemberValue, msgpackMapValue } from '../../src/protocol/echo.js';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

describe('msgpackMapValue', () => {
  it('finds the value of a key in any position, the last when repeated', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()), (id, rest) => {
        const obj = { ...rest, op: 'ping', id };
        const bytes = packr.pack(obj);
        const span = msgpackMapValue(bytes, 'id');
        expect(span).toBeDefined();
        expect(unpackr.unpack(bytes.subarray(span![0], span![1]))).toEqual(
          unpackr.unpack(packr.pack(id)),
        );
      }),
    );
  });

  it('is undefined for non-maps, missing keys and truncated maps', () => {
    expect(msgpackMapValue(packr.pack([1, 2]), 'id')).toBeUndefined();
    expect(msgpackMapValue(packr.pack({ op: 'ping' }), 'id')).toBeUndefined();
    expect(msgpackMapValue(new Uint8Array(0), 'id')).toBeUndefined();
    const whole = packr.pack({ op: 'ping', id: 'abc' });
    expect(msgpackMapValue(whole.subarray(0, whole.length - 1), 'id')).toBeUndefined();
  });

  it('matches the key by its bytes in every string encoding, not other types', () => {
    // {str8 "id": 1}, {str16 "id": 2}, {bin "id": 3}
    expect(msgpackMapValue(Uint8Array.from([0x81, 0xd9, 2, 0x69, 0x64, 0x01]), 'id')).toEqual([
      5, 6,
    ]);
    expect(msgpackMapValue(Uint8Array.from([0x81, 0xda, 0, 2, 0x69, 0x64, 0x02]), 'id')).toEqual([
      6, 7,
    ]);
    expect(msgpackMapValue(Uint8Array.from([0x81, 0xc4, 2, 0x69, 0x64, 0x03]), 'id')).toBe(
      undefined,
    );
  });
});

describe('jsonMemberValue', () => {
  it('finds the value text of a member, whatever the spacing', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.constantFrom(undefined, 1, 2, '\t'),
        (id, rest, space) => {
          const text = JSON.stringify({ ...rest, op: 'ping', id }, null, space);
          const span = jsonMemberValue(text, 'id');
          expect(span).toBeDefined();
          expect(JSON.parse(text.slice(span![0], span![1]))).toEqual(
            JSON.parse(JSON.stringify(id)),
          );
        },
      ),
    );
  });

  it('reads escaped keys and takes the last of repeated ones', () => {
    const text = '{"\\u0069d": 1, "op": "ping", "id" : "x\\"}"}';
    expect(text.slice(...jsonMemberValue(text, 'id')!)).toBe('"x\\"}"');
    expect(jsonMemberValue('{"op":"ping"}', 'id')).toBeUndefined();
    expect(jsonMemberValue('[1]', 'id')).toBeUndefined();
  });
});
