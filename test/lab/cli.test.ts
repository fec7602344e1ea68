import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { parseBreakArgs, register } from '../../src/cli/commands/lab.js';

const empty = mkdtempSync(join(tmpdir(), 'remedy-lab-cli-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

async function runLab(...args: string[]): Promise<{ exitCode: number | undefined; stderr: string }> {
  const program = new Command('remedy').exitOverride();
  register(program);
  let stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  await program.parseAsync(['node', 'remedy', 'lab', ...args]);
  return { exitCode: process.exitCode === undefined ? undefined : Number(process.exitCode), stderr };
}

describe('remedy lab (CLI)', () => {
  it('status on a directory without a lab is a usage error that says how to start one', async () => {
    const r = await runLab('status', '--dir', empty);
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain(`no lab in ${empty} (no lab.json); start one with: remedy lab up --dir ${empty}`);
  });

  it('break names the scenarios when given an unknown one', async () => {
    const r = await runLab('break', 'disk-full', '--dir', empty);
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain('unknown scenario "disk-full"; scenarios: mps-down, mps-busy, router-mp-tls, stale-router-config, backend-error');
  });

  it('break: each --hosts belongs to the scenario before it', () => {
    expect(parseBreakArgs(['mps-down', '--hosts', 'mp-1,mp-2', 'backend-error'])).toEqual([
      { scenario: 'mps-down', hosts: ['mp-1', 'mp-2'] },
      { scenario: 'backend-error' },
    ]);
    expect(parseBreakArgs(['router-down', '--hosts=dc_2'])).toEqual([{ scenario: 'router-down', hosts: ['dc_2'] }]);
    expect(() => parseBreakArgs(['--hosts', 'mp-1', 'mps-down'])).toThrow('--hosts goes after the scenario it applies to');
    expect(() => parseBreakArgs(['mps-down', '--hosts'])).toThrow('--hosts needs a comma-separated list');
    expect(() => parseBreakArgs(['mps-down', '--force'])).toThrow('unknown option --force for lab break');
    expect(() => parseBreakArgs(['mps-down', '--hosts', 'mp-1', '--hosts', 'mp-2'])).toThrow('mps-down has two --hosts lists');
  });

  it('break with an unknown scenario among several exits 64 before touching the lab', async () => {
    const r = await runLab('break', 'mps-down', '--hosts', 'mp-1', 'disk-full', '--dir', empty);
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain('unknown scenario "disk-full"');
  });

  it('up refuses a topology nginx cannot fail over in, before touching anything', async () => {
    const r = await runLab('up', '--dir', join(empty, 'lab'), '--mps-per-region', '1');
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain('--mps-per-region must be an integer from 2 to 20 (got 1)');
  });

  it('rejects a non-numeric --regions through commander (exit 64 at the top level)', async () => {
    await expect(runLab('up', '--regions', 'two')).rejects.toBeInstanceOf(CommanderError);
  });
});
