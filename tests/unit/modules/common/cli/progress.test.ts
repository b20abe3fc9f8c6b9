import { createProgress } from '../../../../../modules/common/src/cli/progress';

const CLEAR = '\r\x1b[2K';

function sink(isTTY: boolean): { write(text: string): boolean; isTTY: boolean; text: string } {
  return {
    isTTY,
    text: '',
    write(text: string) {
      this.text += text;
      return true;
    },
  };
}

describe('createProgress', () => {
  it('prints a plain line when a step starts and when it ends (not a terminal)', async () => {
    const out = sink(false);
    let now = 0;
    const progress = createProgress(out, { now: () => now });
    const a = progress.start('sandbox services');
    now = 1_500;
    a.done('4 started');
    await expect(
      progress.step('location berlin', async () => {
        now = 4_000;
        throw new Error('DPS refused\nmore');
      }),
    ).rejects.toThrow('DPS refused');
    progress.close();
    expect(out.text).toBe(
      [
        '  … sandbox services',
        '  ✓ sandbox services (1.5 s): 4 started',
        '  … location berlin',
        '  ✗ location berlin: DPS refused (after 2.5 s)',
        '',
      ].join('\n'),
    );
  });

  it('on a terminal, shows the running steps on one line rewritten in place and leaves ✓ lines', () => {
    const out = sink(true);
    let now = 0;
    const progress = createProgress(out, { now: () => now });
    const a = progress.start('relay');
    const b = progress.start('hub');
    expect(out.text).toContain(CLEAR);
    expect(out.text).toMatch(/relay, hub… 0\.0 s$/);
    now = 2_000;
    a.done();
    // Each redraw starts by clearing the line: the last piece is what the terminal shows now.
    const shown = (): string => out.text.split(CLEAR).at(-1)!;
    expect(shown()).toMatch(/^ {2}✓ relay \(2\.0 s\)\n {2}\S hub… 2\.0 s$/);
    progress.line('a line of other output');
    expect(shown()).toMatch(/^ {2}a line of other output\n {2}\S hub… 2\.0 s$/);
    b.done();
    progress.close();
    // Nothing is left on the live line: the last thing written ends a line or clears it.
    expect(out.text).toMatch(/✓ hub \(2\.0 s\)\n$/);
  });
});
