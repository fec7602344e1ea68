// End-to-end harness: the CLI built from src/ (tsc, the build config) into a private directory,
// so a concurrent `npm run build` elsewhere cannot swap dist/ under a running test; real sshd
// servers on loopback whose sessions get their own HOME and TMPDIR (host locks kept apart);
// and a runner for `remedy …` with an isolated HOME (no ~/.ssh/config, no agent).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '../../src/engine/events.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Builds the CLI once per test file; returns the path of main.js. */
export function buildCli(): string {
  const root = mkdtempSync(join(tmpdir(), 'remedy-cli-'));
  symlinkSync(join(REPO, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  const r = spawnSync(
    process.execPath,
    [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(root, 'dist')],
    {
      cwd: REPO,
      encoding: 'utf8',
    },
  );
  const main = join(root, 'dist/cli/main.js');
  if (!existsSync(main)) throw new Error(`building the CLI failed:\n${r.stdout}\n${r.stderr}`);
  return main;
}

export interface TestHostServer {
  sshd: Sshd;
  /** TMPDIR of the server's sessions (where host locks go). */
  tmp: string;
}

export async function startHostServer(): Promise<TestHostServer> {
  const base = mkdtempSync(join(tmpdir(), 'remedy-e2e-host-'));
  const home = join(base, 'home');
  const tmp = join(base, 'tmp');
  mkdirSync(home);
  mkdirSync(tmp);
  // A Match block overrides the helper's global SetEnv (HOME), so both are set here.
  const sshd = await startSshd({ extraConfig: ['Match all', `SetEnv HOME=${home} TMPDIR=${tmp}`] });
  return { sshd, tmp };
}

export function hostLine(name: string, server: TestHostServer, vars: Record<string, string>): string {
  const s = server.sshd;
  const extra = Object.entries(vars)
    .map(([k, v]) => `, ${k}: ${JSON.stringify(v)}`)
    .join('');
  return `    ${name}: { ansible_host: 127.0.0.1, ansible_port: ${s.port}, ansible_user: ${s.user}, ansible_ssh_private_key_file: ${s.keyFile}${extra} }`;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class Cli {
  readonly main: string;
  readonly home: string;
  constructor(main: string) {
    this.main = main;
    this.home = mkdtempSync(join(tmpdir(), 'remedy-e2e-home-'));
  }

  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: this.home, NO_COLOR: '1' };
    delete env.SSH_AUTH_SOCK;
    delete env.FORCE_COLOR;
    return env;
  }

  spawn(args: string[], cwd: string): ChildProcess {
    return spawn(process.execPath, [this.main, ...args], { cwd, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async run(args: string[], cwd: string, timeoutMs = 60_000): Promise<CliRun> {
    const child = this.spawn(args, cwd);
    return collect(child, timeoutMs);
  }
}

export function collect(child: ChildProcess, timeoutMs = 60_000): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Complete journal events so far (a partial last line is left out). */
export function journalEvents(runDir: string): RunEvent[] {
  const file = join(runDir, 'journal.jsonl');
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  lines.pop();
  return lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as RunEvent);
}

export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function write(file: string, text: string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}
