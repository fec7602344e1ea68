// The mission, end to end: the shipped apigee-502-bad-gateway runbook against the real lab
// (sshd per host, nginx Routers, JVM MPs), through the built CLI, for every cause the seed page
// names, a healthy lab and a partial outage.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labBreak, labDown, labHeal, labUp, readState, type LabInfo, type Scenario } from '../../src/lab/index.js';
import { apigeeServiceOk } from '../../src/lab/services.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const RUNBOOK = 'apigee-502-bad-gateway';
// Short waits so the whole file stays around two minutes.
// Thresholds: a busy lab MP spins one thread, but on a loaded machine it may get little CPU, and
// its 64 MB heap is mostly free; the thresholds are lowered so the dumps are always taken.
const FAST = ['-e', 'dump_interval=1s', '-e', 'monitor_checks=2', '-e', 'monitor_interval=1s', '-e', 'up_timeout=3s', '-e', 'cpu_threshold=1', '-e', 'memory_threshold=0'];

let lab: LabInfo;
let work: string;

interface Event {
  type: string;
  step?: string;
  host?: string;
  status?: string;
  decision?: string;
}

function remedy(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 110_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function run(name: string, extra: string[] = []) {
  const dir = join(work, name);
  const r = remedy(['run', RUNBOOK, '-i', lab.inventory, '--run-dir', dir, ...FAST, ...extra]);
  const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { outcome: string; cause: string | null; exitCode: number; message: string | null; hosts: Record<string, { status: string }> };
  const events = readFileSync(join(dir, 'journal.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Event);
  return { ...r, dir, result, events };
}

/** plan --probe, whose exit code is the one its journal records (as for run without --yes). */
function probe(expectedCode: number) {
  const r = remedy(['plan', RUNBOOK, '-i', lab.inventory, '--probe', '--format', 'json', ...FAST]);
  expect(r.code, r.stderr).toBe(expectedCode);
  expect(r.stderr).toContain(`(exit ${expectedCode})`);
  return JSON.parse(r.stdout) as { cause: string; mutations: { id: string; hosts: string[] }[] };
}

/** Hosts on which a mutating step changed something, per step. */
function changes(events: Event[]): string[] {
  return events.filter((e) => e.type === 'host-end' && e.status === 'changed').map((e) => `${e.step}@${e.host}`);
}

/** Status of a fresh request through every Router (curl, as an operator would: no pooled connection). */
async function routerStatuses(): Promise<number[]> {
  return lab.routers.map((r) => {
    const out = spawnSync('curl', ['-s', '-o', '/dev/null', '-m', '15', '-w', '%{http_code}', r.url], { encoding: 'utf8' }).stdout;
    return Number(out) || 0;
  });
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
  work = mkdtempSync(join(tmpdir(), 'remedy-502-e2e-'));
  chmodSync(work, 0o755); // the lab's service user must reach its files
  lab = await labUp({ dir: join(work, 'lab') });
});

afterAll(async () => {
  if (lab) await labDown(lab.dir);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('apigee-502-bad-gateway on the lab', () => {
  it('healthy lab: cause none, nothing-to-do, no mutating step runs', async () => {
    expect(probe(0).cause).toBe('none');
    const r = run('healthy', ['--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.result).toMatchObject({ outcome: 'nothing-to-do', cause: 'none', exitCode: 0 });
    expect(changes(r.events)).toEqual([]);
    expect(r.events.filter((e) => e.type === 'approval')).toEqual([]);
  });

  const fixable: { scenario: Scenario; cause: string; firstMutation: string }[] = [
    { scenario: 'mps-down', cause: 'mps-down', firstMutation: 'restart_region_all_down.restart' },
    { scenario: 'mps-busy', cause: 'mps-busy', firstMutation: 'busy_dumps.heap_dump' },
    { scenario: 'router-mp-tls', cause: 'router-mp-tls', firstMutation: 'tls_fix.mp_properties' },
    { scenario: 'stale-router-config', cause: 'stale-router-config', firstMutation: 'confd_reset.reset_router_confd' },
  ];

  for (const { scenario, cause, firstMutation } of fixable) {
    it(`${scenario}: probe names the cause, run without --yes changes nothing (exit 5), run --yes fixes and verifies`, { timeout: 300_000 }, async () => {
      await labHeal(lab.dir);
      await labBreak(lab.dir, scenario);
      expect((await routerStatuses()).some((s) => s !== 200)).toBe(true);

      const p = probe(5);
      expect(p.cause).toBe(cause);
      expect(p.mutations.map((m) => m.id)).toContain(firstMutation);

      const dry = run(`${scenario}-no-yes`);
      expect(dry.code, dry.stderr).toBe(5);
      expect(dry.result).toMatchObject({ outcome: 'refused', cause });
      expect(changes(dry.events)).toEqual([]);
      expect((await routerStatuses()).some((s) => s !== 200)).toBe(true);

      const fix = run(scenario, ['--yes']);
      expect(fix.code, fix.stderr).toBe(0);
      expect(fix.result).toMatchObject({ outcome: 'resolved', cause, exitCode: 0 });
      expect(await routerStatuses()).toEqual(lab.routers.map(() => 200));

      if (scenario === 'mps-busy') {
        const runId = (fix.events.find((e) => e.type === 'run-start') as unknown as { runId: string }).runId;
        const bundle = join(fix.dir, 'artifacts', `support-bundle-${runId}.tar.gz`);
        expect(existsSync(bundle), bundle).toBe(true);
        const out = join(fix.dir, 'unpacked');
        mkdirSync(out);
        expect(spawnSync('tar', ['-xzf', bundle, '-C', out]).status).toBe(0);
        const top = join(out, `support-bundle-${runId}`);
        const manifest = JSON.parse(readFileSync(join(top, 'manifest.json'), 'utf8')) as { files: { path: string; host: string; description: string; sha256: string }[] };
        const mpNames = lab.hosts.filter((h) => h.role === 'message-processor').map((h) => h.name);
        for (const mp of mpNames) {
          const pid = '\\d+';
          const files = manifest.files.filter((f) => f.host === mp).map((f) => f.path.slice(mp.length + 1));
          expect(files).toEqual(expect.arrayContaining(['apigee-service-status.txt', 'message-processor.properties', 'system.log']));
          expect(files.some((f) => new RegExp(`^heap-${mp}-${pid}-\\d{8}T\\d{6}Z\\.hprof$`).test(f)), files.join()).toBe(true);
          const dumps = files.find((f) => f.startsWith(`thread-dumps-${mp}-`))!;
          const listing = spawnSync('tar', ['-tzf', join(top, mp, dumps)], { encoding: 'utf8' }).stdout;
          expect(listing.split('\n').filter((f) => new RegExp(`^jstack-${mp}-${pid}-\\d{8}T\\d{6}Z\\.txt$`).test(f))).toHaveLength(3);
        }
        for (const r of lab.routers) {
          expect(manifest.files.filter((f) => f.host === r.name).map((f) => f.path)).toEqual(
            [`${r.name}/access_log`, `${r.name}/apigee-service-status.txt`, `${r.name}/error_log`],
          );
        }
        // Every sha256 in the manifest matches the unpacked file, and SHA256SUMS checks too.
        for (const f of manifest.files) expect(createHash('sha256').update(readFileSync(join(top, f.path))).digest('hex'), f.path).toBe(f.sha256);
        const check = spawnSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: top, encoding: 'utf8' });
        expect(check.status, check.stdout + check.stderr).toBe(0);
      }
      if (scenario === 'router-mp-tls') {
        const runId = fix.events.find((e) => e.type === 'run-start') as unknown as { runId: string };
        for (const mp of lab.hosts.filter((h) => h.role === 'message-processor')) {
          const dir = join(mp.apigeeRoot, 'customer/application');
          const backup = join(dir, `message-processor.properties.remedy-${runId.runId}.bak`);
          expect(existsSync(backup), backup).toBe(true);
          expect(readFileSync(backup, 'utf8')).toMatch(/local\.http\.ssl=true/);
          expect(readFileSync(join(dir, 'message-processor.properties'), 'utf8')).toContain(`local.http.port=${mp.ports.mp_tls_port}`);
        }
      }
    });
  }

  it('backend-error: changes nothing, escalates (exit 3) with the evidence', async () => {
    await labHeal(lab.dir);
    await labBreak(lab.dir, 'backend-error');
    expect(probe(3).cause).toBe('backend-error');
    const r = run('backend-error', ['--yes']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.result).toMatchObject({ outcome: 'escalated', cause: 'backend-error', exitCode: 3 });
    expect(changes(r.events)).toEqual([]);
    const evidence = readdirSync(join(r.dir, 'outputs')).find((d) => d.startsWith('backend_evidence'));
    expect(evidence).toBeDefined();
    expect(readFileSync(join(r.dir, 'report.md'), 'utf8')).toContain('backend-error');
  });

  it('a Router that does not answer (nginx stopped): cause unknown, nothing changed, escalated (exit 3) with its probe status as evidence', async () => {
    await labHeal(lab.dir);
    const router = readState(lab.dir).topology.hosts.find((h) => h.name === 'router-1');
    if (!router) throw new Error('the lab has no router-1');
    await apigeeServiceOk(router, 'stop');
    expect((await routerStatuses())[0]).toBe(0);
    const r = run('router-down', ['--yes']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.result).toMatchObject({ outcome: 'escalated', cause: 'unknown', exitCode: 3 });
    expect(r.result.message).toMatch(/not proven healthy/);
    expect(r.result.message).not.toMatch(/every MP is up|answered 200/);
    expect(changes(r.events)).toEqual([]);
    expect(r.events.filter((e) => e.type === 'approval')).toEqual([]);
    const decision = r.events.find((e) => e.type === 'decision') as unknown as { cause: string; evidence: { facts: Record<string, Record<string, unknown>> } };
    expect(decision.cause).toBe('unknown');
    expect(decision.evidence.facts['router-1']).toMatchObject({ probe_status: 0 });
    expect(decision.evidence.facts['router-2']).toMatchObject({ probe_status: 200 });
  });

  it('--limit that matches no host (a typo, a stale alert host): exit 64 with a suggestion, nothing run, on a broken fleet too', async () => {
    await labHeal(lab.dir);
    await labBreak(lab.dir, 'mps-down');
    for (const [limit, hint] of [
      ['rooters', 'did you mean "routers"?'],
      ['mp-9', 'matches no host'],
    ] as const) {
      const dir = join(work, `limit-${limit}`);
      const r = remedy(['run', RUNBOOK, '-i', lab.inventory, '--run-dir', dir, '--limit', limit, '--yes', ...FAST]);
      expect(r.code, r.stderr).toBe(64);
      expect(r.stderr).toContain(hint);
      expect(existsSync(join(dir, 'journal.jsonl'))).toBe(false);
      const p = remedy(['plan', RUNBOOK, '-i', lab.inventory, '--limit', limit]);
      expect(p.code).toBe(64);
    }
  });

  it('--limit without the MPs while every MP is down: refused (exit 64) naming the group; with the opt-in, never an all-clear', async () => {
    await labHeal(lab.dir);
    await labBreak(lab.dir, 'mps-down');
    const refused = remedy(['run', RUNBOOK, '-i', lab.inventory, '--run-dir', join(work, 'limit-routers'), '--limit', 'routers', '--yes', ...FAST]);
    expect(refused.code, refused.stderr).toBe(64);
    expect(refused.stderr).toMatch(/leaves out every host of "message_processors".*decide step diagnose/);
    expect(refused.stderr).toContain('--decide-without-excluded-hosts');
    const blind = run('limit-routers-opt-in', ['--limit', 'routers', '--decide-without-excluded-hosts', '--yes']);
    expect(blind.code, blind.stderr).toBe(3);
    expect(blind.result).toMatchObject({ outcome: 'escalated', cause: 'unknown' });
    expect(blind.result.message).not.toMatch(/every MP is up/);
    expect(changes(blind.events)).toEqual([]);
  });

  it('partial outage: one MP of four down is noticed and only that MP is restarted', async () => {
    await labHeal(lab.dir);
    await labBreak(lab.dir, 'mps-down', ['mp-3']);
    const r = run('partial', ['--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.result).toMatchObject({ outcome: 'resolved', cause: 'mps-down' });
    expect(changes(r.events)).toEqual(['restart_down_mps.restart@mp-3']);
    expect(await routerStatuses()).toEqual(lab.routers.map(() => 200));
  });
});
