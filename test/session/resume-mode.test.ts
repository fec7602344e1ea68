// The strategy a resumed run continues in is data: the mode its journal's run-start records, not
// whichever commands a front end happened to load before.
import { describe, expect, test } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { UnattendedStrategy } from '../../src/engine/strategy.js';
import { resumeModeOf, resumeSetup } from '../../src/session/resume.js';

const start = (mode: 'unattended' | 'guided' | 'probe'): RunEvent =>
  ({
    time: '2026-11-29T21:14:04.129Z',
    seq: 1,
    type: 'run-start',
    runId: 'r',
    runbook: 't',
    planHash: 'sha256:x',
    mode,
    operator: 'alice',
    user: 'alice',
    controller: 'vm',
    params: {},
    hosts: [],
    runDir: '/tmp/r',
  }) as RunEvent;

describe('resume mode', () => {
  test('is the mode of the first run-start, over inputs.json', () => {
    expect(resumeModeOf([start('guided'), { ...start('unattended'), seq: 9 } as RunEvent], { options: { mode: 'unattended' } })).toBe('guided');
    expect(resumeModeOf([start('unattended')], { options: { mode: 'guided' } })).toBe('unattended');
  });

  test('falls back to inputs.json when the journal has no run-start, and a probe continues unattended', () => {
    expect(resumeModeOf([], { options: { mode: 'guided' } })).toBe('guided');
    expect(resumeModeOf([start('probe')], { options: { mode: 'probe' } })).toBe('unattended');
  });

  test('an unattended run continues unattended, with the yes it is given', async () => {
    const setup = await resumeSetup('unattended', { yes: true, operator: 'alice', runDir: '/tmp/r', secrets: [] });
    expect(setup.strategy).toBeInstanceOf(UnattendedStrategy);
    expect(setup.console).toBeUndefined();
  });

  test('a guided run continues guided: without a terminal it is refused as a guided run, not resumed unattended', async () => {
    await expect(resumeSetup('guided', { yes: true, operator: 'alice', runDir: '/tmp/r', secrets: [] })).rejects.toThrow(
      /resuming a guided run asks the operator at every decision and needs a terminal/,
    );
  });
});
