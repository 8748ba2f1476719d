// Text from a value whose shape is not known (a field of a request body or of an engine answer, a log line's field):
// JavaScript's String(), a coercion this code does on purpose. Written once, here: at each call typescript-eslint's
// no-base-to-string cannot tell it from an accidental '[object Object]'.

/** `String(v)` for a value of unknown shape; with a fallback, `String(v ?? fallback)`. */
export function asText(v: unknown, fallback?: string): string {
  const value: unknown = fallback === undefined ? v : (v ?? fallback);
  return String(value);
}
