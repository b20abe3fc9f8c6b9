import fc from 'fast-check';
import { parseControlMessage } from '../../../../sandbox/src/relay/control-message';

// Fixed seed and run count: the same cases every run, fast enough for npm test.
const RUNS = { seed: 99, numRuns: 500 };

describe('sandbox relay control messages (property)', () => {
  it('any frame gives a typed ControlMessage, never an exception', () => {
    const renewish = fc
      .record({
        renewToken: fc.oneof(fc.anything(), fc.record({ token: fc.anything() }, { requiredKeys: [] })),
      })
      .map((m) => JSON.stringify(m) ?? '');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          renewish,
          fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        ),
        fc.boolean(),
        (frame, isBinary) => {
          const message = parseControlMessage(frame, isBinary);
          expect(['renewToken', 'badRenewToken', 'ignored']).toContain(message.kind);
          if (message.kind === 'renewToken') {
            expect(typeof message.token).toBe('string');
            expect(message.token).not.toBe('');
          }
          if (isBinary) expect(message.kind).toBe('ignored');
        },
      ),
      RUNS,
    );
  });

  it('reads a renewToken from text, a Buffer and fragments alike', () => {
    const text = JSON.stringify({ renewToken: { token: 'SharedAccessSignature sr=a&sig=b&se=1&skn=c' } });
    const expected = { kind: 'renewToken', token: 'SharedAccessSignature sr=a&sig=b&se=1&skn=c' };
    expect(parseControlMessage(text, false)).toEqual(expected);
    expect(parseControlMessage(Buffer.from(text), false)).toEqual(expected);
    expect(parseControlMessage([Buffer.from(text.slice(0, 9)), Buffer.from(text.slice(9))], false)).toEqual(
      expected,
    );
    expect(parseControlMessage('{"renewToken":{"token":""}}', false).kind).toBe('badRenewToken');
    expect(parseControlMessage('{"renewToken":null}', false).kind).toBe('badRenewToken');
    expect(parseControlMessage('null', false).kind).toBe('ignored');
    expect(parseControlMessage('{"accept":{}}', false).kind).toBe('ignored');
  });
});
