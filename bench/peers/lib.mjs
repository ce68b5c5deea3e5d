/**
 * Shared by the peers in bench/peers/ and the benchmark driver: flag parsing
 * and MessagePack codecs without records (plain maps, as every client sends).
 */
import { Packr, Unpackr } from 'msgpackr';

export const packr = new Packr({ useRecords: false });
export const unpackr = new Unpackr({ useRecords: false });

/** Parses `--key value` and `--key=value` pairs into an object of strings; a bare `--key` is 'true'. */
export function parseFlags(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (a.startsWith('--')) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) out[a.slice(2)] = 'true';
      else {
        out[a.slice(2)] = next;
        i++;
      }
    }
  }
  return out;
}
