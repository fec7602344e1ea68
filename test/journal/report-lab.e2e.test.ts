// The handover reports of real runs: the shipped 502 runbook against the lab, through the built
// CLI, then `remedy report` in every format. What the next person needs must be in the report
// itself, and must be what the hosts really logged: the backend-error escalation carries the
// message ids, the fault-code histogram and the sample lines of the Routers' access logs; the
// mps-down report carries the Router error_log lines the decision saw, the restart command run on
// each MP and every phase timing.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labBreak, labDown, labHeal, labUp, type LabInfo } from '../../src/lab/index.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const FORMATS = ['markdown', 'html', 'json'] as const;

let lab: LabInfo;
let work: string;

function remedy(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 110_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `remedy run --yes` into its own run dir, then the report of that dir in every format. */
function runAndReport(name: string): { code: number; stderr: string; dir: string; reports: Record<(typeof FORMATS)[number], string> } {
  const dir = join(work, name);
  const r = remedy(['run', 'apigee-502-bad-gateway', '-i', lab.inventory, '--run-dir', dir, '--yes', '-e', 'up_timeout=3s']);
  const reports = {} as Record<(typeof FORMATS)[number], string>;
  for (const format of FORMATS) {
    const rep = remedy(['report', dir, '-f', format]);
    expect(rep.code, rep.stderr).toBe(0);
    reports[format] = rep.stdout;
  }
  return { code: r.code, stderr: r.stderr, dir, reports };
}

/** A Router's nginx log (access or error), read on the lab host itself. */
function routerLog(router: string, kind: 'access' | 'error'): string[] {
  const logDir = join(lab.dir, 'hosts', router, 'opt/apigee/var/log/edge-router/nginx');
  const file = readdirSync(logDir).find((f) => f.endsWith(`_${kind}_log`));
  if (!file) throw new Error(`no ${kind} log in ${logDir}`);
  return readFileSync(join(logDir, file), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

function curl(url: string): number {
  return Number(spawnSync('curl', ['-s', '-o', '/dev/null', '-m', '15', '-w', '%{http_code}', url], { encoding: 'utf8' }).stdout) || 0;
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
  work = mkdtempSync(join(tmpdir(), 'remedy-report-lab-'));
  chmodSync(work, 0o755); // the lab's service user must reach its files
  lab = await labUp({ dir: join(work, 'lab') });
}, 180_000);

afterAll(async () => {
  if (lab) await labDown(lab.dir);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('handover reports of real lab runs', () => {
  it(
    'backend-error: the escalation report carries the message ids, fault-code histogram and sample lines the Routers logged',
    { timeout: 240_000 },
    async () => {
      await labHeal(lab.dir);
      await labBreak(lab.dir, 'backend-error');
      // A few client requests fail first, as they would before anyone is paged.
      for (const r of lab.routers) for (let i = 0; i < 3; i++) expect(curl(r.url)).toBe(502);

      const run = runAndReport('backend-error');
      expect(run.code, run.stderr).toBe(3);

      for (const router of lab.routers.map((r) => r.name)) {
        // The 502s with fault source target, as the Router wrote them (tab-separated, see nginx.conf).
        const failing = routerLog(router, 'access')
          .map((l) => l.split('\t'))
          .filter((f) => f[7] === '502' && f[17] === 'target');
        expect(failing.length, router).toBeGreaterThanOrEqual(4);
        const ids = failing.map((f) => f[12] ?? '');
        for (const id of ids) expect(id).toMatch(/^rrt-[0-9a-f]+-\d+$/);
        // The script keeps the last five sample lines; each is the access log's own line, cut to
        // time, upstream MP, status, request and message id.
        const samples = failing.slice(-5).map((f) => [f[0], f[3], f[7], f[11], f[12]].join('\t'));
        for (const format of FORMATS) {
          const text = run.reports[format];
          for (const id of ids.slice(-5)) expect(text, `${format}: ${router} ${id}`).toContain(id);
          expect(text, format).toContain('messaging.adaptors.http.flow.ErrorResponseCode');
        }
        const md = run.reports.markdown;
        for (const line of samples) expect(md, router).toContain(line);
        // The histogram: how many 502s per fault source and code, counted from the log.
        expect(md).toContain(`      ${failing.length} target messaging.adaptors.http.flow.ErrorResponseCode`);
        const json = JSON.parse(run.reports.json) as { evidence: { step: string; host: string; lines: string[]; output: string }[] };
        const ev = json.evidence.find((e) => e.step === 'backend_evidence' && e.host === router);
        expect(ev?.lines).toEqual(expect.arrayContaining([...samples, `      ${failing.length} target messaging.adaptors.http.flow.ErrorResponseCode`]));
        // The link to the full output is relative to the run directory and opens there.
        expect(existsSync(join(run.dir, ev?.output ?? 'missing'))).toBe(true);
        expect(run.reports.html).toContain(`href="${ev?.output}"`);
      }
      // Summary first, telling who takes it over.
      const md = run.reports.markdown;
      expect(md.indexOf('## Summary')).toBeLessThan(md.indexOf('## Evidence'));
      expect(md).toMatch(/\*\*Outcome: escalated\*\* \(exit 3\)\. Cause: `backend-error`/);
      expect(md).toMatch(/\*\*Left for people:\*\*\n\n- The 502s come from the backend/);
      expect(md).toContain('- Nothing was changed on any host.');
    },
  );

  it('mps-down: the report carries the Router error_log lines, the restart command run on each MP and every phase timing', { timeout: 240_000 }, async () => {
    await labHeal(lab.dir);
    await labBreak(lab.dir, 'mps-down');
    const run = runAndReport('mps-down');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(run.dir, 'result.json'), 'utf8')) as { outcome: string; cause: string };
    expect(result).toMatchObject({ outcome: 'resolved', cause: 'mps-down' });

    // The error_log lines the probe's request left on each Router, as nginx wrote them.
    for (const router of lab.routers.map((r) => r.name)) {
      const refused = routerLog(router, 'error').filter((l) => l.includes('connect() failed (111: Connection refused)'));
      expect(refused.length, router).toBeGreaterThan(0);
      const inReport = refused.filter((l) => run.reports.markdown.includes(`error_log: ${l}`));
      expect(inReport.length, `${router}: none of its error_log lines is in the report`).toBeGreaterThan(0);
      expect(inReport.some((l) => /upstream: "http:\/\/127\.0\.0\.1:\d+\/v1\/hello"/.test(l))).toBe(true);
      const json = JSON.parse(run.reports.json) as { evidence: { step: string; host: string; lines: string[] }[] };
      expect(json.evidence.filter((e) => e.step === 'router_probe' && e.host === router).flatMap((e) => e.lines)).toEqual(
        expect.arrayContaining(inReport.map((l) => `error_log: ${l}`)),
      );
    }

    // The restart command each MP really received (its own install path), in every format.
    const mps = lab.hosts.filter((h) => h.name.startsWith('mp-')).map((h) => h.name);
    expect(mps).toHaveLength(4);
    const json = JSON.parse(run.reports.json) as {
      commands: { step: string; groups: { command: string; hosts: string[] }[] }[];
      phases: { id: string; time: string | null; atMs: number | null }[];
    };
    const restarts = json.commands.find((c) => c.step === 'restart_region_all_down.restart');
    for (const mp of mps) {
      const restart = `${join(lab.dir, 'hosts', mp)}/opt/apigee/apigee-service/bin/apigee-service edge-message-processor restart`;
      expect(restarts?.groups.find((g) => g.hosts.includes(mp))?.command, mp).toContain(restart);
      expect(run.reports.markdown, mp).toContain(restart);
      expect(run.reports.html, mp).toContain(restart);
    }
    // Every phase has a time, in order, and the HTML draws them.
    expect(json.phases.map((p) => p.id)).toEqual(['start', 'evidence', 'decided', 'fixed', 'verified']);
    const at = json.phases.map((p) => p.atMs);
    for (const a of at) expect(a).not.toBeNull();
    expect([...at].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(at);
    for (const label of ['run start', 'evidence gathered', 'cause decided', 'fix applied', 'verified'])
      expect(run.reports.markdown).toMatch(new RegExp(`\\| ${label} \\| 20\\d\\d-\\d\\d-\\d\\dT[^|]+Z \\| \\+[\\d.]+m?s \\|`));
    expect(run.reports.html).toMatch(/<svg[^>]*>[\s\S]*verified[\s\S]*<\/svg>/);
  });
});
