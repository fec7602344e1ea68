import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { parseSignaled, signalTreeCommand } from '../../src/transport/process-group.js';

const dir = mkdtempSync(join(tmpdir(), 'remedy-pgroup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signalTreeCommand', () => {
  it('signals the group first, then the rest of the tree parents before children, whatever their pids', async () => {
    // A process table where each child has a lower pid than its parent (pids wrap around), and
    // the child and grandchild sit in sessions of their own (sudo with use_pty): pid ppid pgid.
    writeFileSync(
      join(dir, 'ps'),
      '#!/bin/sh\nprintf "%s\\n" "  10    20    10" "  20   700    20" " 300     1   300" " 700     1   700" " 650   700   700"\n',
    );
    chmodSync(join(dir, 'ps'), 0o755);
    // kill(1) is a shell builtin, so the pids (not ours) are only printed, in the order signalled.
    const script = signalTreeCommand(700, 'TERM').replaceAll('kill -s TERM', 'echo kill');
    const r = await $({ env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` }, quiet: true })`sh -c ${script}`;
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, -1)).toEqual(['kill -- -700', 'kill 700', 'kill 20', 'kill 650', 'kill 10']);
    expect(parseSignaled(r.stdout)).toEqual([700, 20, 650, 10]);
  });
});
