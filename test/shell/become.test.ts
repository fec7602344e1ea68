import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { wrapBecome } from '../../src/shell/become.js';
import { shellQuote } from '../../src/shell/quote.js';

function sh(command: string, stdin = ''): { code: number | null; stdout: string } {
  const r = spawnSync('/bin/sh', ['-c', command], { input: stdin, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout };
}

describe('wrapBecome', () => {
  it('leaves commands alone without become or with method none', () => {
    expect(wrapBecome('id -un', null).command).toBe('id -un');
    expect(wrapBecome('id -un', { method: 'none', user: 'x' }).command).toBe('id -un');
  });

  it('quotes the command as one argument of sh -c, hostile quotes included', () => {
    const w = wrapBecome("echo 'a'; echo b", { method: 'runuser', user: 'nobody' });
    expect(w.command).toBe(`runuser -u nobody -- sh -c ${shellQuote("echo 'a'; echo b")}`);
  });

  it('fails fast without a password (sudo -n) and keeps the password off the command line', () => {
    expect(wrapBecome('true', { method: 'sudo', user: 'apigee' }).command).toBe('sudo -n -H -u apigee -- sh -c true');
    const w = wrapBecome('true', { method: 'sudo', user: 'apigee', password: "hunter2'; rm -rf /" });
    expect(w.command).not.toContain('hunter2');
    expect(w.stdinPrefix).toBe("hunter2'; rm -rf /\n");
  });

  it('never passes the password on to the command, even when sudo asks for none (root here)', () => {
    if (process.getuid?.() !== 0) throw new Error('this test runs as root (sudo without a password)');
    const w = wrapBecome('cat', { method: 'sudo', user: 'root', password: 's3cret' });
    const r = sh(w.command, `${w.stdinPrefix}real input\n`);
    expect(r).toEqual({ code: 0, stdout: 'real input\n' });
  });
});
