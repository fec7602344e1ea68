// Durations as runbooks write them (`500ms`, `30s`, `1m30s`) turned into milliseconds, once.
// Below every folder: the runbook schema, the templates (`| seconds`), the engine and the service
// all read durations, and none of them should have to import another's layer for it.

/** `500ms`, `30s`, `5m`, `1h`, or combinations such as `1m30s`. */
export const DURATION_PATTERN = /^(\d+(ms|s|m|h))+$/;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** '1m30s' → 90000. Throws on text that is not a duration (validate first for a positioned error). */
export function durationMs(text: string): number {
  const trimmed = text.trim();
  if (!DURATION_PATTERN.test(trimmed)) throw new Error(`not a duration: "${text}" (expected e.g. 500ms, 30s, 5m, 1h, 1m30s)`);
  let total = 0;
  for (const m of trimmed.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return total;
}

export function isDuration(text: string): boolean {
  return DURATION_PATTERN.test(text.trim());
}
