import fc from 'fast-check';
import { TunnelCloseCode } from '../../../../../modules/common/src/tunnel/close-codes';
import { TunnelError } from '../../../../../modules/common/src/tunnel/errors';
import {
  describeReply,
  encodePreamble,
  MAX_PORT_NAME_BYTES,
  PreambleDecoder,
  PreambleReplyDecoder,
} from '../../../../../modules/common/src/tunnel/preamble';

// Fixed seed and run count: the same cases every run, fast enough for npm test.
const RUNS = { seed: 4242, numRuns: 400 };

/** Cuts `bytes` at the given (sorted, deduplicated) offsets. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(start, p));
    start = p;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

function feed(
  bytes: Buffer,
  cuts: number[],
): { value?: { portName: string; mode: number }; rest?: Buffer; error?: unknown } {
  const decoder = new PreambleDecoder();
  const restParts: Buffer[] = [];
  let value: { portName: string; mode: number } | undefined;
  try {
    for (const chunk of split(bytes, cuts)) {
      if (value) {
        restParts.push(chunk);
        continue;
      }
      const result = decoder.push(chunk);
      if (result) {
        value = result.value;
        restParts.push(result.rest);
      }
    }
  } catch (error) {
    return { error };
  }
  return { value, rest: Buffer.concat(restParts) };
}

describe('preamble decoder (property)', () => {
  it('any bytes in any split: a preamble, "need more", or TUNNEL_BAD_PREAMBLE with close code 4400', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 8 }), (raw, cuts) => {
        const outcome = feed(Buffer.from(raw), cuts);
        if (outcome.error !== undefined) {
          expect(outcome.error).toBeInstanceOf(TunnelError);
          expect((outcome.error as TunnelError).code).toBe('TUNNEL_BAD_PREAMBLE');
          expect((outcome.error as TunnelError).closeCode).toBe(TunnelCloseCode.BAD_PREAMBLE);
        }
      }),
      RUNS,
    );
  });

  it('the same bytes give the same outcome however they are split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat(), { maxLength: 8 }), (raw, cuts) => {
        const whole = feed(Buffer.from(raw), []);
        const pieces = feed(Buffer.from(raw), cuts);
        expect(pieces.error === undefined).toBe(whole.error === undefined);
        expect(pieces.value).toEqual(whole.value);
        if (whole.rest) expect(pieces.rest?.equals(whole.rest)).toBe(true);
      }),
      RUNS,
    );
  });

  it('decodes every name encodePreamble accepts, followed by payload, in any split', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }),
        fc.constantFrom(0 as const, 1 as const),
        fc.uint8Array({ maxLength: 32 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (name, mode, payload, cuts) => {
          fc.pre(Buffer.byteLength(name) <= MAX_PORT_NAME_BYTES);
          const bytes = Buffer.concat([encodePreamble(name, mode), Buffer.from(payload)]);
          const outcome = feed(bytes, cuts);
          expect(outcome.error).toBeUndefined();
          expect(outcome.value).toEqual({ portName: name, mode });
          expect(outcome.rest?.equals(Buffer.from(payload))).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('encodePreamble refuses names it cannot carry with TUNNEL_BAD_PREAMBLE, never a RangeError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (name) => {
        try {
          encodePreamble(name);
        } catch (err) {
          expect(err).toBeInstanceOf(TunnelError);
          expect((err as TunnelError).code).toBe('TUNNEL_BAD_PREAMBLE');
        }
      }),
      RUNS,
    );
  });

  it('any listener reply is decoded after 3 bytes and explained or accepted, never thrown', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 10 }), fc.constantFrom(0 as const, 1 as const), (raw, mode) => {
        const result = new PreambleReplyDecoder().push(Buffer.from(raw));
        if (raw.length < 3) return expect(result).toBeUndefined();
        expect(result?.rest.length).toBe(raw.length - 3);
        const why = describeReply(result!.value, mode);
        const accepted = raw[0] === 1 && raw[1] === 0 && raw[2] === mode;
        expect(why === undefined).toBe(accepted);
      }),
      RUNS,
    );
  });
});
