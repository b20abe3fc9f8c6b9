/** A JSON pointer from path segments (RFC 6901 escaping), e.g. `/routes/sql/port`. */
export function jsonPointer(...segments: ReadonlyArray<string | number>): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
