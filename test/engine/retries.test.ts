// One retry loop for every action: properties edits and fetches get the step's `retries` and
// `delay` as run steps always had. A failed attempt that is retried is not final in the journal
// (resume would pick it up); the retry is journaled as the next attempt.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FakeClock, FakeFleet, planOf, runPlan, tempDir } from './helpers.js';

const sha256 = (text: string | undefined): string =>
  createHash('sha256')
    .update(text ?? '')
    .digest('hex');

const propertiesRunbook = (retries: number) => `
name: t
summary: edit a file whose first write fails
steps:
  - id: edit
    name: set the timeout
    hosts: mp1
    retries: ${retries}
    delay: 2s
    properties:
      file: /opt/router.properties
      set: { timeout: 120s }
  - id: done
    name: done
    outcome: { status: resolved, message: edited }
`;

/**
 * A host whose first write of the file fails (the file system is busy), then succeeds; a write
 * answers with the sha256 of what it got. (A read that fails before approval fails the host at
 * once: nothing was approved yet to retry.)
 */
function flakyFileFleet(): FakeFleet {
  return new FakeFleet()
    .on('cat -- ', { stdout: 'timeout=57s\n' })
    .on('sha256sum', { exitCode: 1, stderr: 'mv: cannot move: Device or resource busy' }, { times: 1 })
    .on('sha256sum', (c) => ({ stdout: `${sha256(c.stdin)}  /opt/router.properties\n` }));
}

describe('retries of properties and fetch steps', () => {
  test('a properties edit whose write fails is retried after the delay (read again, written again) and then applied', async () => {
    const { plan, inventory } = planOf(propertiesRunbook(2));
    const clock = new FakeClock();
    const fleet = flakyFileFleet();
    const ran = await runPlan(plan, inventory, fleet, { clock });
    expect(ran.result).toMatchObject({ outcome: 'resolved', exitCode: 0 });
    const ends = ran.of('host-end').filter((e) => e.step === 'edit');
    expect(ends.map((e) => [e.attempt, e.status, e.final ?? false])).toEqual([
      [1, 'failed', false],
      [2, 'changed', true],
    ]);
    expect(
      ran
        .of('host-start')
        .filter((e) => e.step === 'edit')
        .map((e) => e.attempt),
    ).toEqual([1, 2]);
    expect(clock.sleeps).toContain(2000);
    expect(fleet.commands('mp1').filter((c) => c.includes('sha256sum'))).toHaveLength(2);
    expect(ends[0]?.error).toContain('cannot write /opt/router.properties');
  });

  test('without retries the same failure fails the step on its first attempt, as before', async () => {
    const { plan, inventory } = planOf(propertiesRunbook(0));
    const ran = await runPlan(plan, inventory, flakyFileFleet());
    expect(ran.result.outcome).toBe('failed');
    const ends = ran.of('host-end').filter((e) => e.step === 'edit');
    expect(ends.map((e) => [e.attempt, e.status, e.final ?? false])).toEqual([[1, 'failed', true]]);
  });

  test('a fetch of a file not there yet is retried until it appears', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: fetch a heap dump still being written
steps:
  - id: grab
    name: fetch the dump
    hosts: mp1
    retries: 3
    delay: 1s
    fetch: { src: /tmp/heap.hprof }
`);
    const fleet = new FakeFleet().on('test -e', { exitCode: 1 }, { times: 2 }).on('test -e', { exitCode: 0 });
    const runDir = tempDir();
    // The fake transport writes where it is told; a real one creates the artifact directory itself.
    mkdirSync(join(runDir, 'artifacts/mp1'), { recursive: true });
    const ran = await runPlan(plan, inventory, fleet, { runDir });
    const ends = ran.of('host-end').filter((e) => e.step === 'grab');
    expect(ends.map((e) => [e.attempt, e.status, e.final ?? false])).toEqual([
      [1, 'failed', false],
      [2, 'failed', false],
      [3, 'ok', true],
    ]);
    expect(fleet.fetched).toEqual([{ host: 'mp1', src: '/tmp/heap.hprof', dest: expect.stringContaining('heap.hprof') as string }]);
  });
});
