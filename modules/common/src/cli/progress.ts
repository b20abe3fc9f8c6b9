/** Where progress goes: a stream, and whether it is a terminal (then one live line is rewritten in place). */
export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** One step of a long operation. */
export interface ProgressStep {
  /** Marks it done: `✓ label (1.2 s)` plus `detail`. */
  done(detail?: string): void;
  /** Marks it failed: `✗ label: detail`. */
  fail(detail?: string): void;
}

/** Reports the steps of a long operation: what runs now and what is done. */
export interface Progress {
  /** Starts a step (steps may overlap); prints `… label` as a line, or shows it on the live line of a terminal. */
  start(label: string): ProgressStep;
  /** Runs `work` as a step: done when it resolves, failed (and rethrown) when it rejects. */
  step<T>(label: string, work: () => Promise<T>, detail?: (result: T) => string | undefined): Promise<T>;
  /** Prints a line of other output without garbling the live line. */
  line(text: string): void;
  /** Clears the live line and stops its timer (steps still open are left as they are). */
  close(): void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A progress reporter. On a terminal the running steps share one live line (spinner, labels, elapsed time)
 * redrawn in place and each finished step leaves a `✓` line; otherwise (a pipe, a log file, CI) every start and
 * end is a plain line, so logs show what happened and how long it took. `indent` prefixes every line.
 */
export function createProgress(
  out: ProgressOutput,
  options: { readonly tty?: boolean; readonly indent?: string; readonly now?: () => number } = {},
): Progress {
  const tty = options.tty ?? out.isTTY === true;
  const indent = options.indent ?? '  ';
  const now = options.now ?? Date.now;
  const running: { label: string; started: number }[] = [];
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  let shown = false;

  const clear = (): void => {
    if (shown) out.write('\r\x1b[2K');
    shown = false;
  };
  const draw = (): void => {
    clear();
    const first = running[0];
    if (!first) return;
    const labels = running.map((r) => r.label).join(', ');
    const width = Math.max(20, ((out as { columns?: number }).columns ?? 100) - 16);
    const text = labels.length > width ? `${labels.slice(0, width - 1)}…` : labels;
    out.write(`${indent}${SPINNER[frame++ % SPINNER.length]} ${text}… ${seconds(now() - first.started)}`);
    shown = true;
  };
  const ensureTimer = (): void => {
    if (!tty || timer || running.length === 0) return;
    timer = setInterval(draw, 120);
    // The live line must never keep a finished process alive.
    timer.unref();
  };
  const stopTimerIfIdle = (): void => {
    if (running.length > 0 || !timer) return;
    clearInterval(timer);
    timer = undefined;
  };
  const finish = (entry: { label: string; started: number }, mark: string, detail?: string): void => {
    const i = running.indexOf(entry);
    if (i < 0) return;
    running.splice(i, 1);
    const elapsed = seconds(now() - entry.started);
    const text =
      mark === '✓'
        ? `${entry.label} (${elapsed})${detail ? `: ${detail}` : ''}`
        : `${entry.label}: ${detail ?? 'failed'} (after ${elapsed})`;
    progress.line(`${mark} ${text}`);
    stopTimerIfIdle();
  };

  const progress: Progress = {
    start(label) {
      const entry = { label, started: now() };
      running.push(entry);
      if (tty) {
        draw();
        ensureTimer();
      } else out.write(`${indent}… ${label}\n`);
      return { done: (detail) => finish(entry, '✓', detail), fail: (detail) => finish(entry, '✗', detail) };
    },
    async step(label, work, detail) {
      const s = progress.start(label);
      try {
        const result = await work();
        s.done(detail?.(result));
        return result;
      } catch (err) {
        s.fail(err instanceof Error ? err.message.split('\n')[0] : String(err));
        throw err;
      }
    },
    line(text) {
      clear();
      out.write(`${indent}${text}\n`);
      if (tty && running.length > 0) draw();
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      clear();
    },
  };
  return progress;
}

/** A progress reporter that prints nothing (callers that were given none). */
export const SILENT_PROGRESS: Progress = {
  start: () => ({ done: () => undefined, fail: () => undefined }),
  step: (_label, work) => work(),
  line: () => undefined,
  close: () => undefined,
};

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
