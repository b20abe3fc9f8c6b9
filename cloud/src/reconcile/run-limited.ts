/**
 * Runs `work` over `items` with at most `limit` in flight, in order. On the first error (or once `shouldStop`
 * says so) no new item starts; the ones in flight are awaited, then the first error is thrown. Nothing is left
 * running behind the caller's back.
 */
export async function runLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
  shouldStop: () => Error | undefined = () => undefined,
): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length && firstError === undefined) {
      const stop = shouldStop();
      if (stop) {
        firstError ??= stop;
        return;
      }
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (firstError !== undefined) throw firstError;
}
