// Parameters can carry secrets (a password for a command's argument): audit records and logs get
// a copy with those values replaced. Job state keeps the real values, since orders are signed from it.
// `key` but not `keyspace(s)`: a Cassandra keyspace name is no secret, and plans are full of them.
const SECRET_KEY = /pass|secret|token|credential|private|key(?!spaces?$)/i;

export function redactParams(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactParams(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      SECRET_KEY.test(k) ? '***' : redactParams(v, depth + 1),
    ]),
  );
}
