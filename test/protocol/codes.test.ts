/**
 * The code catalogue matches the wire contract exactly, and every tick
 * fault has a description. Message texts themselves are not asserted.
 */
import { describe, expect, it } from 'vitest';
import * as protocol from '../../src/protocol/index.js';

describe('codes', () => {
  it('lists exactly the contract error codes', () => {
    expect([...protocol.ERROR_CODES].sort()).toEqual(
      [
        'bad_frame',
        'bad_tick',
        'bad_request',
        'unauthorized',
        'rate_limited',
        'too_many_subscriptions',
        'payload_too_large',
        'slow_consumer',
        'internal_error',
      ].sort(),
    );
    expect(Object.isFrozen(protocol.ERROR_CODES)).toBe(true);
    expect(protocol.ErrorCode.BadTick).toBe('bad_tick');
    expect(protocol.ErrorCode.PayloadTooLarge).toBe('payload_too_large');
  });

  it('uses the RFC 6455 close codes of the contract', () => {
    expect(protocol.CloseCode).toEqual({
      Normal: 1000,
      GoingAway: 1001,
      PolicyViolation: 1008,
      MessageTooBig: 1009,
      InternalError: 1011,
    });
  });

  it('has the documented limits', () => {
    expect(protocol.MAX_BATCH).toBe(4096);
    expect(protocol.MIN_SYMBOL_BYTES).toBe(1);
    expect(protocol.MAX_SYMBOL_BYTES).toBe(32);
    expect(protocol.MAX_STRING_BYTES).toBe(256);
    expect(protocol.MAX_TICK_KEYS).toBe(64);
    expect(protocol.MAX_REPORTED_INDICES).toBe(16);
    expect(protocol.ALL_SYMBOLS).toBe('*');
    expect(protocol.MAX_DEPTH).toBe(8);
  });

  it('describes every tick fault and frame error', () => {
    const faults = Object.values(protocol.TickFault);
    expect(new Set(faults).size).toBe(faults.length);
    expect(protocol.TickFault.None).toBe(0);
    for (const f of faults) {
      expect(typeof protocol.TICK_FAULT_MESSAGES[f]).toBe('string');
      expect(protocol.TICK_FAULT_MESSAGES[f]!.length).toBeGreaterThan(0);
    }
    expect(protocol.TICK_FAULT_MESSAGES.length).toBe(faults.length);
    for (const m of Object.values(protocol.FRAME_ERROR_MESSAGES))
      expect(m.length).toBeGreaterThan(0);
    expect(new Set(Object.values(protocol.FrameStatus)).size).toBe(3);
  });

  it('sets a frame error message for every refused frame', () => {
    const scanner = new protocol.TickScanner();
    const messages = new Set<string>(Object.values(protocol.FRAME_ERROR_MESSAGES));
    for (const bytes of [
      [],
      [0xc1],
      [0x05],
      [0x91],
      [0x80, 0x00],
      [0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x01],
    ]) {
      expect(scanner.scan(Uint8Array.from(bytes))).toBe(protocol.FrameStatus.BadFrame);
      expect(messages.has(scanner.frameError)).toBe(true);
    }
    const big = new Uint8Array(3 + 4097).fill(0x01);
    big.set([0xdc, 0x10, 0x01]);
    expect(scanner.scan(big)).toBe(protocol.FrameStatus.TooLarge);
    expect(scanner.frameError).toBe(protocol.FRAME_ERROR_MESSAGES.tooLarge);
  });
});
