import { firstHeadSplitter } from '../../../../../sandbox/src/relay/tls-front/head-boundary';

const text = (parts: Buffer[]): string[] => parts.map((p) => p.toString('latin1'));

describe('firstHeadSplitter (TLS front: the response head leaves as a write of its own)', () => {
  it('cuts one chunk right after the blank line that ends the head', () => {
    const split = firstHeadSplitter();
    expect(text(split(Buffer.from('HTTP/1.1 101 OK\r\nA: b\r\n\r\nFRAME')))).toEqual([
      'HTTP/1.1 101 OK\r\nA: b\r\n\r\n',
      'FRAME',
    ]);
  });

  it('finds a blank line that straddles two chunks, and cuts in the second', () => {
    const split = firstHeadSplitter();
    expect(text(split(Buffer.from('HTTP/1.1 101 OK\r\n\r')))).toEqual(['HTTP/1.1 101 OK\r\n\r']);
    expect(text(split(Buffer.from('\nFRAME')))).toEqual(['\n', 'FRAME']);
  });

  it('does not cut a chunk that ends with the head, nor anything after the first head', () => {
    const split = firstHeadSplitter();
    expect(text(split(Buffer.from('HTTP/1.1 101 OK\r\n\r\n')))).toEqual(['HTTP/1.1 101 OK\r\n\r\n']);
    expect(text(split(Buffer.from('x\r\n\r\ny')))).toEqual(['x\r\n\r\ny']);
  });
});
