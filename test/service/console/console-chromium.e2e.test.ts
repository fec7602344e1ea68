/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The web console in a real browser against the lab: Debian's chromium (launched by
// playwright-core, no browser download, its RPC on loopback, stopped by PID) drives the console
// of a real `remedy serve` (the built CLI, embedded redis-server). An operator logs in, sees an
// Alertmanager alert's run appear in the list, opens it, reads the evidence, approves on every
// MP and watches the timeline reach `resolved`; the Routers answer 200 and the journal names the
// operator. Another run is denied and nothing changes on the hosts. A POST without the CSRF token
// and an approval by a viewer are refused. Each main page is photographed at 1280 and 375 px
// and nothing may overflow horizontally.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserServer, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { labBreak, labDown, labHeal, labUp, type LabInfo } from '../../../src/lab/index.js';
import { alertmanager, AUTH_YAML, ENV, TOKENS, until } from '../helpers.js';

const ROOT = join(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const FAST = `{ dump_interval: "1s", monitor_checks: "2", monitor_interval: "1s", up_timeout: "3s" }`;
/** Where the screenshots go: a temp dir, or REMEDY_SCREENSHOTS (the README's are made that way). */
const SHOTS = process.env['REMEDY_SCREENSHOTS'];

let lab: LabInfo;
let work: string;
let serve: ChildProcess;
let url: string;
let server: BrowserServer;
let browser: Browser;
let shots: string;
/** Requests a page made anywhere but the console (a CDN, say): there must be none. */
const offLoopback: string[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function api(path: string, init: { body?: unknown; token?: string } = {}): Promise<any> {
  const res = await fetch(`${url}${path}`, {
    method: init.body !== undefined ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${init.token ?? TOKENS.admin}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  return res.json();
}

function routerStatuses(): number[] {
  return lab.routers.map(
    (r) => Number(spawnSync('curl', ['-s', '-o', '/dev/null', '-m', '15', '-w', '%{http_code}', r.url], { encoding: 'utf8' }).stdout) || 0,
  );
}

function mpStarts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const mp of lab.hosts.filter((h) => h.role === 'message-processor')) {
    const log = join(mp.apigeeRoot, 'var/log/edge-message-processor/logs/system.log');
    out[mp.name] = existsSync(log) ? (readFileSync(log, 'utf8').match(/Starting message-processor/g) ?? []).length : 0;
  }
  return out;
}

async function login(token: string): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  // Loopback only: anything else the page asks for fails the test.
  page.on('request', (r) => {
    if (!r.url().startsWith(url) && !r.url().startsWith('data:')) offLoopback.push(r.url());
  });
  await page.goto(`${url}/runs`);
  expect(new URL(page.url()).pathname).toBe('/login');
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${url}/runs`);
  return page;
}

/** A screenshot at 1280 and at 375 px; nothing may be wider than the window. */
async function photograph(page: Page, name: string): Promise<void> {
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(200);
    const seen = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      // Scroll boxes (pre, tables) may be wider inside; their box must fit.
      tooWide: [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5 && !el.closest('pre, .scroll, .graph, .svgwrap, .skip'))
        .map((el) => el.tagName + (el.id ? `#${el.id}` : '') + (el.className && typeof el.className === 'string' ? `.${el.className}` : ''))
        .slice(0, 5),
    }));
    expect(seen.tooWide, `${name} at ${width} px`).toEqual([]);
    expect(seen.scrollWidth, `${name} at ${width} px`).toBeLessThanOrEqual(seen.innerWidth);
    await page.screenshot({ path: join(shots, `console-${name}-${width}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function postAlert(fingerprint: string): Promise<string> {
  const posted = await api('/hooks/alertmanager', {
    token: TOKENS.hook,
    body: alertmanager({ alertname: 'Apigee502', severity: 'page' }, 'firing', fingerprint),
  });
  expect(posted.results[0].action).toBe('enqueued');
  return posted.results[0].run as string;
}

const waitingApproval = (id: string) => until(`run ${id} to wait for an approval`, async () => ((await api(`/api/runs/${id}`)).approval ? true : null), 90_000);

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run lab/install-prereqs.sh as root (Debian package chromium)`);
  work = mkdtempSync(join(tmpdir(), 'remedy-console-e2e-'));
  chmodSync(work, 0o755);
  shots = SHOTS ?? join(work, 'shots');
  mkdirSync(shots, { recursive: true });
  lab = await labUp({ dir: join(work, 'lab') });
  const policy = join(work, 'policy.yaml');
  writeFileSync(
    policy,
    `${AUTH_YAML}maintenance:\n  - { name: quarterly-upgrade, match: { alertname: Upgrade }, start: "2026-01-01T00:00:00Z", end: "2099-01-01T00:00:00Z" }\nroutes:\n  - name: apigee-502\n    match: { alertname: Apigee502 }\n    runbook: apigee-502-bad-gateway\n    inventory: ${lab.inventory}\n    mode: approve\n    params: ${FAST}\n    budget: { max: 10, per: 1h }\n    breaker: false\n`,
  );
  serve = spawn(process.execPath, [CLI, 'serve', '--policy', policy, '--listen', '127.0.0.1:0', '--data', join(work, 'data')], {
    cwd: ROOT,
    env: { ...process.env, ...ENV, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`remedy serve not ready within 60 s:\n${err}`)), 60_000);
    serve.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1] as string);
      }
    });
    serve.once('exit', (code) => reject(new Error(`remedy serve exited ${code}:\n${err}`)));
  });
  server = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: FLAGS, host: '127.0.0.1', timeout: 90_000 });
  expect(new URL(server.wsEndpoint()).hostname).toBe('127.0.0.1');
  browser = await chromium.connect(server.wsEndpoint());
}, 240_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  const pid = server?.process().pid;
  await server?.close().catch(() => undefined);
  if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
  if (serve && serve.exitCode === null) {
    const exited = new Promise((r) => serve.once('exit', r));
    serve.kill('SIGTERM');
    await exited;
  }
  if (lab) await labDown(lab.dir);
  if (work) rmSync(work, { recursive: true, force: true });
}, 120_000);

afterEach(() => {
  expect(offLoopback.splice(0)).toEqual([]);
});

describe('the web console in Chromium, on the lab', { timeout: 300_000 }, () => {
  it("an operator watches an alert's run live, approves it on every MP, and it resolves; the journal names the operator", async () => {
    const page = await login(TOKENS.operator);
    await expect(page.getByRole('heading', { name: 'Runs' }).isVisible()).resolves.toBe(true);
    await labHeal(lab.dir);
    await labBreak(lab.dir, 'mps-down');
    expect(routerStatuses().some((c) => c !== 200)).toBe(true);
    const id = await postAlert('console-approve');
    // The list updates by itself: the new run appears, then waits for an approval.
    const row = page.locator(`li.runrow[data-id="${id}"]`);
    await row.waitFor({ timeout: 30_000 });
    await waitingApproval(id);
    await row.getByText('awaiting approval').waitFor({ timeout: 15_000 });
    await photograph(page, 'runs');
    await row.getByRole('link').click();
    await page.waitForURL(`${url}/runs/${id}`);
    // The evidence: the concluded cause, the facts it read, the exact commands, the plan hash.
    const panel = page.locator('#panel');
    await panel.getByRole('heading', { name: /Approval needed/ }).waitFor({ timeout: 30_000 });
    await expect(panel.locator('.cause').textContent()).resolves.toContain('mps-down');
    await expect(panel.locator('table.facts').count()).resolves.toBe(1);
    const planHash = await panel.locator('code[data-hash]').textContent();
    expect(planHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await panel.locator('.cmd pre').count()).toBeGreaterThan(0);
    await photograph(page, 'approval');
    // Approve every wait on every MP until nothing waits any more.
    const approved: string[] = [];
    for (let i = 0; i < 20; i++) {
      const state = await until(
        'an approval or the end',
        async () => {
          const r = await api(`/api/runs/${id}`);
          if (!['queued', 'running'].includes(r.outcome)) return { end: true as const };
          const key = r.approval ? `${r.approval.step}#${r.approval.batch ?? 0}` : null;
          return key && !approved.includes(key) ? { end: false as const, key, hosts: r.approval.hosts as string[] } : null;
        },
        90_000,
      );
      if (state.end) break;
      const form = page.locator(`#panel[data-key^="${state.key}#"] form.approve`);
      await form.waitFor({ timeout: 30_000 });
      expect(await form.locator('input[name="host"]:checked').count()).toBe(state.hosts.length);
      const remaining = form.getByRole('button', { name: 'Approve this and the remaining batches' });
      await ((await remaining.count()) > 0 ? remaining : form.getByRole('button', { name: 'Approve on selected hosts' })).click();
      await form.locator('.result').filter({ hasText: 'Recorded: approved by alice' }).waitFor({ timeout: 15_000 });
      approved.push(state.key);
    }
    expect(approved.length).toBeGreaterThan(0);
    // The live timeline (SSE) reaches the end.
    await page.locator('#timeline li[data-type="run-end"]').waitFor({ timeout: 120_000 });
    await expect(page.locator('#timeline li[data-type="run-end"]').textContent()).resolves.toContain('run ended resolved');
    expect(await page.locator('#timeline li[data-type="approval"][data-operator="alice"]').count()).toBeGreaterThanOrEqual(approved.length);
    await page.locator('#live[data-final="yes"]').waitFor({ timeout: 15_000 });
    await expect(page.locator('#live .status').textContent()).resolves.toContain('resolved');
    await expect(page.locator('#live svg.timeline').count()).resolves.toBe(1);
    await photograph(page, 'run');
    expect(routerStatuses()).toEqual(lab.routers.map(() => 200));
    // The journal: every approval by alice, with its time and the plan hash.
    const journal = readFileSync(join(work, 'data', 'runs', id, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const approvals = journal.filter((e) => e.type === 'approval');
    expect(approvals.length).toBeGreaterThanOrEqual(approved.length);
    for (const a of approvals)
      expect(a).toMatchObject({ decision: 'approved', operator: 'alice', source: 'operator', planHash: planHash?.trim(), time: expect.any(String) });
    const mps = lab.hosts.filter((h) => h.role === 'message-processor').map((h) => h.name);
    expect([...new Set(approvals.flatMap((a) => a.hosts))].filter((h) => mps.includes(h)).sort()).toEqual(
      mps.filter((m) => journal.some((e) => e.type === 'host-end' && e.host === m && e.status === 'ok' && /restart/.test(e.step))).sort(),
    );
    await page.context().close();
  });

  it('a viewer cannot approve, a POST without the CSRF token is refused, and a denied run changes nothing on the hosts', async () => {
    await labHeal(lab.dir);
    await labBreak(lab.dir, 'mps-down');
    const before = mpStarts();
    const id = await postAlert('console-deny');
    await waitingApproval(id);
    const pending = (await api(`/api/runs/${id}`)).approval;
    const body = { step: pending.step, planHash: pending.planHash, decision: 'approved' };

    const viewer = await login(TOKENS.viewer);
    await viewer.goto(`${url}/runs/${id}`);
    await viewer
      .locator('#panel')
      .getByRole('heading', { name: /Approval needed/ })
      .waitFor({ timeout: 30_000 });
    expect(await viewer.locator('form.approve').count()).toBe(0);
    await expect(viewer.locator('#panel .note').textContent()).resolves.toContain('only an operator or admin can approve');
    // Even posted by hand from the page, with the session's CSRF token, the role refuses it.
    const byViewer = await viewer.evaluate(
      async ([u, b]) => {
        const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
        const r = await fetch(u, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(b) });
        return { status: r.status, text: await r.text() };
      },
      [`/api/runs/${id}/approvals`, body] as const,
    );
    expect(byViewer.status).toBe(403);
    expect(byViewer.text).toContain('needs operator');
    await viewer.context().close();

    const op = await login(TOKENS.operator);
    await op.goto(`${url}/runs/${id}`);
    // The operator's session without the CSRF token: refused, nothing recorded.
    const noCsrf = await op.evaluate(
      async ([u, b]) => {
        const r = await fetch(u, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
        return { status: r.status, text: await r.text() };
      },
      [`/api/runs/${id}/approvals`, body] as const,
    );
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.text).toContain('CSRF');
    expect((await api(`/api/runs/${id}`)).approval).not.toBeNull();

    // Deny, with a comment (required).
    const form = op.locator('form.approve');
    await form.waitFor({ timeout: 30_000 });
    await form.getByRole('button', { name: 'Deny' }).click();
    await form.locator('.result').filter({ hasText: 'Say why' }).waitFor();
    await form.getByLabel(/Comment/).fill('not during the release freeze');
    await form.getByRole('button', { name: 'Deny' }).click();
    await form.locator('.result').filter({ hasText: 'Recorded: refused by alice' }).waitFor({ timeout: 15_000 });
    await op.locator('#timeline li[data-type="run-end"]').waitFor({ timeout: 60_000 });
    const run = await until('the denied run to end', async () => {
      const r = await api(`/api/runs/${id}`);
      return ['queued', 'running'].includes(r.outcome) ? null : r;
    });
    expect(run.outcome).toBe('refused');
    await op.locator('#live[data-final="yes"]').waitFor({ timeout: 15_000 });
    expect(mpStarts()).toEqual(before);
    expect(routerStatuses().some((c) => c !== 200)).toBe(true);
    const journal = readFileSync(join(work, 'data', 'runs', id, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(journal.filter((e) => e.type === 'approval')).toEqual([
      expect.objectContaining({ decision: 'refused', operator: 'alice', planHash: pending.planHash, comment: 'not during the release freeze' }),
    ]);
    expect(journal.some((e) => e.type === 'host-start' && /restart/.test(e.step))).toBe(false);
    await op.context().close();
    await labHeal(lab.dir);
  });

  it('the runbook catalogue draws the decision graph with the local mermaid bundle; policy and runbook pages fit at 375 px', async () => {
    const page = await login(TOKENS.admin);
    await page.goto(`${url}/runbooks`);
    await page.getByRole('link', { name: 'apigee-502-bad-gateway' }).click();
    await page.locator('body[data-graph="drawn"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('.graph svg').count()).toBe(1);
    expect(await page.locator('.graph svg .node').count()).toBeGreaterThan(5);
    await page.getByRole('button', { name: 'Show the plan' }).click();
    await page.locator('pre.plan').waitFor();
    await expect(page.locator('pre.plan').textContent()).resolves.toContain('Plan for apigee-502-bad-gateway');
    await photograph(page, 'runbook');
    // Probe from the browser: a manual run in the route's plan mode, opened on its run page.
    await page.getByRole('button', { name: /Probe/ }).click();
    await page.waitForURL(/\/runs\/[^/]+$/, { timeout: 30_000 });
    const probeId = new URL(page.url()).pathname.split('/').pop() as string;
    await page.locator('#live[data-final="yes"]').waitFor({ timeout: 120_000 });
    expect(await api(`/api/runs/${probeId}`)).toMatchObject({ runbook: 'apigee-502-bad-gateway', decision: { mode: 'plan', requestedBy: 'root' } });
    await page.goto(`${url}/policy`);
    await expect(page.locator('main').textContent()).resolves.toContain('quarterly-upgrade');
    await photograph(page, 'policy');
    // Keyboard: the skip link is the first stop and leads to the content.
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Skip to content');
    await page.context().close();
  });
});
