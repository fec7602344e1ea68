#!/usr/bin/env node
// `npm run demo`: the mission in two minutes on the built-in lab. Brings a simulated Apigee Edge
// up, kills its Message Processors, shows the Router's 502, runs apigee-502-bad-gateway
// unattended (live progress), shows the diagnosis, the fix, the verification and the report,
// shows the Router's 200, and takes the lab down — also on Ctrl-C or failure.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pc from 'picocolors';
import { labBreak, labDown, labUp, type LabInfo } from '../lab/index.js';
import { isRoot, missingPrerequisites, which } from '../lab/prereqs.js';

const ROOT = join(fileURLToPath(import.meta.url), '../../..');
const CLI = join(ROOT, 'dist/cli/main.js');

function say(text: string): void {
  process.stdout.write(`\n${pc.bold(pc.cyan('▶'))} ${pc.bold(text)}\n`);
}

function routerStatus(url: string): string {
  const r = spawnSync('curl', ['-s', '-o', '/dev/null', '-m', '10', '-w', '%{http_code}', url], { encoding: 'utf8' });
  return r.stdout || '000';
}

function ensurePrerequisites(): void {
  const missing = missingPrerequisites(which, isRoot());
  if (missing === null) return;
  if (!isRoot()) {
    process.stderr.write(`${missing}\nRun as root (or: sudo bash lab/install-prereqs.sh), then npm run demo again.\n`);
    process.exit(64);
  }
  say('Installing the lab prerequisites from Debian packages (lab/install-prereqs.sh)');
  const r = spawnSync('bash', [join(ROOT, 'lab/install-prereqs.sh')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function runRemedy(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'inherit', cwd: ROOT });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  const started = Date.now();
  ensurePrerequisites();
  const work = mkdtempSync(join(tmpdir(), 'remedy-demo-'));
  chmodSync(work, 0o755); // the lab's service user must reach its files
  let lab: LabInfo | undefined;
  let stopping = false;
  const cleanUp = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (lab) {
      say('Taking the lab down (every process it started, by pid)');
      await labDown(lab.dir).catch((err: unknown) => process.stderr.write(`lab down: ${String(err)}\n`));
    }
  };
  process.once('SIGINT', () => {
    void cleanUp().then(() => process.exit(130));
  });
  try {
    say('Bringing up the lab: 2 regions × (1 Router + 2 MPs), each host a real sshd; nginx Routers; JVM MPs');
    lab = await labUp({ dir: join(work, 'lab') });
    process.stdout.write(`  healthy in ${((lab.elapsedMs ?? 0) / 1000).toFixed(1)} s; inventory ${lab.inventory}\n`);
    for (const r of lab.routers) process.stdout.write(`  ${r.name} (${r.region}) ${r.url} → ${routerStatus(r.url)}\n`);

    say('Incident: every Message Processor dies (remedy lab break mps-down)');
    await labBreak(lab.dir, 'mps-down');
    // nginx marks the upstreams down after the first failures: ask twice, as clients would.
    for (const r of lab.routers) routerStatus(r.url);
    for (const r of lab.routers) process.stdout.write(`  ${r.name} ${r.url} → ${pc.red(routerStatus(r.url))} Bad Gateway\n`);

    const runDir = join(ROOT, 'runs', `demo-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, 'Z')}`);
    say(`remedy run apigee-502-bad-gateway -i ${relative(ROOT, lab.inventory) || lab.inventory} --yes`);
    const runStarted = Date.now();
    const code = await runRemedy(['run', 'apigee-502-bad-gateway', '-i', lab.inventory, '--yes', '--run-dir', runDir]);
    const runMs = Date.now() - runStarted;

    const result = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8')) as { outcome: string; cause: string | null; exitCode: number };
    say('What remedy concluded and did');
    process.stdout.write(`  cause    ${pc.bold(pc.magenta(String(result.cause)))}\n`);
    process.stdout.write(`  outcome  ${pc.bold(result.outcome)} (exit ${code})\n`);
    process.stdout.write(`  time     ${(runMs / 1000).toFixed(1)} s from run start to verified recovery\n`);
    process.stdout.write(
      `  record   ${relative(ROOT, runDir)}/ (journal.jsonl, result.json, report.md; remedy report ${relative(ROOT, runDir)} --format html)\n`,
    );

    say('The Routers after the fix');
    for (const r of lab.routers) {
      const s = routerStatus(r.url);
      process.stdout.write(`  ${r.name} ${r.url} → ${s === '200' ? pc.green(s) : pc.red(s)}\n`);
    }
    process.stdout.write(
      `\nTry next: the plan (no connection) and the guided mode:\n  node dist/cli/main.js plan apigee-502-bad-gateway -i inventory/example.yaml\n  node dist/cli/main.js lab up && node dist/cli/main.js lab break router-mp-tls\n  node dist/cli/main.js guide apigee-502-bad-gateway -i .remedy-lab/inventory.yaml\n`,
    );
    return code;
  } finally {
    await cleanUp();
    rmSync(work, { recursive: true, force: true });
    process.stdout.write(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s; nothing left running.\n`);
  }
}

process.exitCode = await main();
