// The audit log never holds a secret. Callers pass facts (setting names, counts), but a careless
// `details: { config }` must stay harmless, so keys that name a secret are blanked at any depth.

const SECRET_KEY = /pass(word)?|secret|token|cookie|authori[sz]ation|api[-_]?key|credential|private/i;
const MAX_DEPTH = 5;

/** Details with the values of secret-looking keys replaced by `[redacted]`. */
export function redactDetails(details: Record<string, unknown>): Record<string, unknown> {
  return redact(details, 0) as Record<string, unknown>;
}

function redact(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, SECRET_KEY.test(key) && typeof v !== 'boolean' ? '[redacted]' : redact(v, depth + 1)]),
  );
}
