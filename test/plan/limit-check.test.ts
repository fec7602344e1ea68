// --limit refusals: a limit that matches no host, and one that leaves a decide step blind.
import { describe, expect, test } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { checkLimit } from '../../src/plan/limit-check.js';
import { planOf } from '../engine/helpers.js';

const runbook = `
name: t
summary: decide over two groups
steps:
  - id: look
    name: look
    hosts: all
    run: look
    capture:
      up: { regex: 'up=(\\w+)', as: boolean, default: false }
  - id: diagnose
    name: diagnose
    decide:
      causes:
        - cause: mp-down
          when: hosts('mps').exists(m, !m.facts.up)
        - cause: router-down
          when: hosts('routers').exists(r, !r.facts.up)
      default: none
`;

function refusal(limit: string, allow = false): string {
  const { plan, inventory } = planOf(runbook, { limit });
  try {
    checkLimit(plan, inventory, { limit, allowExcludedEvidence: allow });
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(64);
    return (err as Error).message;
  }
  return '';
}

describe('--limit refusals', () => {
  test('a limit that matches no host is refused, with a suggestion when a name is close', () => {
    expect(refusal('rooters')).toMatch(/--limit 'rooters' matches no host .*\(did you mean "routers"\?\)/);
    expect(refusal('nosuchthing')).toMatch(/matches no host/);
    expect(refusal('nosuchthing')).not.toMatch(/did you mean/);
  });

  test('a limit that leaves out every host of a group a decide condition reads is refused, naming the group and the step', () => {
    expect(refusal('routers')).toMatch(/leaves out every host of "mps" \(mp1, mp2, mp3, mp4\), which decide step diagnose reads/);
    expect(refusal('mps')).toMatch(/"routers" \(r1\)/);
  });

  test('a limit that keeps some host of each group, or the explicit opt-in, is accepted (the opt-in with a warning)', () => {
    expect(refusal('mp1,r1')).toBe('');
    expect(refusal('')).toBe('');
    const { plan, inventory } = planOf(runbook, { limit: 'routers' });
    expect(checkLimit(plan, inventory, { limit: 'routers', allowExcludedEvidence: true })).toEqual([
      expect.stringMatching(/decided without them \(--decide-without-excluded-hosts\)/),
    ]);
  });
});
