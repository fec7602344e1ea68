// Assertions: each key written under `expect:` compared with what the run showed. A failure
// carries the path of the assertion in the test file (for file:line:col) and both sides.
import type { HostStatus } from '../engine/events.js';
import { selectHosts } from '../inventory/patterns.js';
import { splitShellWords } from '../inventory/shell-words.js';
import type { Inventory } from '../inventory/types.js';
import type { Path } from '../runbook/source.js';
import type { Observation } from './run-case.js';
import type { CommandExpectation, Expect } from './schema.js';

export interface Failure {
  /** Where the assertion is, from the case's root (e.g. ['expect', 'cause']). */
  path: Path;
  message: string;
  expected: unknown;
  actual: unknown;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The script inside `sudo … sh -c SCRIPT` / `runuser … sh -c SCRIPT`, so authors can match what they wrote. */
export function unwrapBecome(command: string): string | null {
  if (!/^(sudo|runuser) /.test(command)) return null;
  const split = splitShellWords(command);
  if (!split.ok) return null;
  const words = split.words.map((w) => w.text);
  const c = words.indexOf('-c');
  if (c < 1 || words[c - 1] !== 'sh' || c !== words.length - 2) return null;
  return words[c + 1] ?? null;
}

function textsOf(command: string): string[] {
  const inner = unwrapBecome(command);
  return inner === null ? [command] : [command, inner];
}

function regex(source: string): RegExp {
  return new RegExp(source, 'm');
}

function hostsMatching(inventory: Inventory, pattern: string, known: string[]): string[] {
  if (known.includes(pattern)) return [pattern];
  try {
    return selectHosts(inventory, pattern);
  } catch {
    return [];
  }
}

function checkCommands(obs: Observation, expectations: CommandExpectation[], out: Failure[]): void {
  expectations.forEach((x, i) => {
    const at: Path = ['expect', 'commands', i];
    const phase = x.phase ?? 'run';
    const sent = obs.commands.filter((c) => c.step === x.step && c.phase === phase && (x.host === undefined || c.host === x.host));
    if (sent.length === 0) {
      const stepsWithCommands = [...new Set(obs.commands.filter((c) => x.host === undefined || c.host === x.host).map((c) => c.step))];
      out.push({
        path: [...at, 'step'],
        message: `step ${x.step} sent no ${phase} command${x.host ? ` to ${x.host}` : ''}`,
        expected: `a command of ${x.step}`,
        actual: stepsWithCommands,
      });
      return;
    }
    for (const c of sent) {
      const texts = textsOf(c.command);
      const shown = texts[texts.length - 1] as string;
      if (x.equals !== undefined && !texts.includes(x.equals))
        out.push({ path: [...at, 'equals'], message: `${x.step} on ${c.host}: the command differs`, expected: x.equals, actual: shown });
      if (x.matches !== undefined && !texts.some((t) => regex(x.matches as string).test(t))) {
        out.push({
          path: [...at, 'matches'],
          message: `${x.step} on ${c.host}: the command does not match /${x.matches}/`,
          expected: `/${x.matches}/`,
          actual: shown,
        });
      }
      if (x.not_matches !== undefined && texts.some((t) => regex(x.not_matches as string).test(t))) {
        out.push({
          path: [...at, 'not_matches'],
          message: `${x.step} on ${c.host}: the command matches /${x.not_matches}/`,
          expected: `not /${x.not_matches}/`,
          actual: shown,
        });
      }
    }
  });
}

function checkMessage(obs: Observation, m: NonNullable<Expect['message']>, out: Failure[]): void {
  if (typeof m === 'string') {
    if (obs.message.trim() !== m.trim()) out.push({ path: ['expect', 'message'], message: 'the outcome message differs', expected: m, actual: obs.message });
    return;
  }
  list(m.contains).forEach((t, i) => {
    if (!obs.message.includes(t))
      out.push({
        path: ['expect', 'message', 'contains', ...(Array.isArray(m.contains) ? [i] : [])],
        message: `the outcome message does not contain "${t}"`,
        expected: t,
        actual: obs.message,
      });
  });
  list(m.not_contains).forEach((t, i) => {
    if (obs.message.includes(t))
      out.push({
        path: ['expect', 'message', 'not_contains', ...(Array.isArray(m.not_contains) ? [i] : [])],
        message: `the outcome message contains "${t}"`,
        expected: `no "${t}"`,
        actual: obs.message,
      });
  });
  if (m.matches !== undefined && !regex(m.matches).test(obs.message))
    out.push({
      path: ['expect', 'message', 'matches'],
      message: `the outcome message does not match /${m.matches}/`,
      expected: `/${m.matches}/`,
      actual: obs.message,
    });
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * `refused_at_plan`: the case's inputs must be refused while planning (before any command), with
 * an error containing the texts and, when `exit_code` is given, that exit code. `refusal` is
 * null when the case planned.
 */
export function checkRefusal(refusal: { message: string; exitCode: number } | null, expect: Expect): Failure[] {
  const want = expect.refused_at_plan;
  if (want === undefined) return [];
  if (refusal === null)
    return [{ path: ['expect', 'refused_at_plan'], message: 'the inputs were not refused: the case planned', expected: want, actual: '(planned)' }];
  const out: Failure[] = [];
  list(want.contains).forEach((t, i) => {
    if (!refusal.message.includes(t))
      out.push({
        path: ['expect', 'refused_at_plan', 'contains', ...(Array.isArray(want.contains) ? [i] : [])],
        message: `the refusal does not contain "${t}"`,
        expected: t,
        actual: refusal.message,
      });
  });
  if (expect.exit_code !== undefined && expect.exit_code !== refusal.exitCode)
    out.push({ path: ['expect', 'exit_code'], message: 'the exit code differs', expected: expect.exit_code, actual: refusal.exitCode });
  return out;
}

export function checkExpect(obs: Observation, expect: Expect, inventory: Inventory): Failure[] {
  const out: Failure[] = [];
  const scalar = (key: keyof Expect, expected: unknown, actual: unknown, what: string): void => {
    if (expected !== undefined && !deepEqual(expected, actual)) out.push({ path: ['expect', key], message: `${what} differs`, expected, actual });
  };
  scalar('cause', expect.cause, obs.cause, 'the decided cause');
  scalar('outcome', expect.outcome, obs.outcome, 'the outcome');
  scalar('exit_code', expect.exit_code, obs.exitCode, 'the exit code');
  if (expect.message !== undefined) checkMessage(obs, expect.message, out);

  const steps = (key: 'ran' | 'not_ran' | 'skipped' | 'refused', wanted: string[] | undefined, have: string[], holds: boolean, what: string): void => {
    wanted?.forEach((s, i) => {
      if (have.includes(s) !== holds)
        out.push({
          path: ['expect', key, i],
          message: `step ${s} ${holds ? 'did not' : ''} ${what}`.replace(/ +/g, ' '),
          expected: holds ? s : `not ${s}`,
          actual: have,
        });
    });
  };
  steps('ran', expect.ran, obs.ran, true, 'run');
  steps('not_ran', expect.not_ran, obs.ran, false, 'ran');
  steps('skipped', expect.skipped, obs.skipped, true, 'get skipped');
  steps('refused', expect.refused, obs.refused, true, 'get refused');
  if (expect.ran_exactly !== undefined && !deepEqual(expect.ran_exactly, obs.ran))
    out.push({ path: ['expect', 'ran_exactly'], message: 'the steps that ran differ', expected: expect.ran_exactly, actual: obs.ran });

  for (const [host, status] of Object.entries(expect.hosts ?? {})) {
    const actual = obs.hosts[host];
    if (actual !== status)
      out.push({ path: ['expect', 'hosts', host], message: `host ${host}'s final status differs`, expected: status, actual: actual ?? '(not in the run)' });
  }
  for (const [step, byHost] of Object.entries(expect.steps ?? {})) {
    const seen = obs.statuses[step] ?? {};
    for (const [pattern, status] of Object.entries(byHost)) {
      const hosts = hostsMatching(inventory, pattern, Object.keys(seen));
      if (hosts.length === 0) out.push({ path: ['expect', 'steps', step, pattern], message: `${pattern} selects no host`, expected: status, actual: seen });
      for (const h of hosts) {
        const actual: HostStatus | undefined = seen[h];
        if (actual !== status)
          out.push({
            path: ['expect', 'steps', step, pattern],
            message: `step ${step} on ${h}: status differs`,
            expected: status,
            actual: actual ?? '(did not reach the step)',
          });
      }
    }
  }
  for (const [step, batches] of Object.entries(expect.batches ?? {})) {
    const actual = obs.batches[step] ?? [];
    if (!deepEqual(batches, actual))
      out.push({ path: ['expect', 'batches', step], message: `step ${step}: the rolling batches differ`, expected: batches, actual });
  }
  if (expect.commands) checkCommands(obs, expect.commands, out);
  expect.diffs?.forEach((d, i) => {
    const diff = obs.diffs[d.step]?.[d.host];
    const at: Path = ['expect', 'diffs', i];
    if (d.none === true) {
      if (diff !== undefined) out.push({ path: [...at, 'none'], message: `${d.step} changed ${d.host}`, expected: '(no diff)', actual: diff });
      return;
    }
    if (diff === undefined) {
      out.push({
        path: [...at, 'step'],
        message: `${d.step} made no properties change on ${d.host}`,
        expected: d.equals ?? list(d.contains).join('\n'),
        actual: '(no diff)',
      });
      return;
    }
    if (d.equals !== undefined && diff.trim() !== d.equals.trim())
      out.push({ path: [...at, 'equals'], message: `${d.step} on ${d.host}: the diff differs`, expected: d.equals, actual: diff });
    list(d.contains).forEach((t, j) => {
      if (!diff.includes(t))
        out.push({
          path: [...at, 'contains', ...(Array.isArray(d.contains) ? [j] : [])],
          message: `${d.step} on ${d.host}: the diff does not contain "${t}"`,
          expected: t,
          actual: diff,
        });
    });
  });
  for (const [host, facts] of Object.entries(expect.facts ?? {})) {
    for (const [name, value] of Object.entries(facts)) {
      const actual = obs.facts[host]?.[name];
      if (!deepEqual(value, actual))
        out.push({
          path: ['expect', 'facts', host, name],
          message: `fact ${name} of ${host} differs`,
          expected: value,
          actual: actual === undefined ? '(not captured)' : actual,
        });
    }
  }
  return out;
}
