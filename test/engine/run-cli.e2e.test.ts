// `remedy run` and `remedy resume` end to end: the built CLI against real OpenSSH servers on
// loopback. A runbook run through; hostile values never executed; secrets in no file of the run
// directory; the controller SIGKILLed at several points and resumed without any mutating step
// running twice; a host whose sshd is stopped mid-run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cli, buildCli, collect, hostLine, journalEvents, startHostServer, waitFor, write, type TestHostServer } from './cli-harness.js';

let cli: Cli;
let a: TestHostServer;
const servers: TestHostServer[] = [];

beforeAll(async () => {
  cli = new Cli(buildCli());
  a = await startHostServer();
  servers.push(a);
}, 120_000);

afterAll(async () => {
  for (const s of servers) await s.sshd.stop();
});

/** A work dir with per-host roots, an inventory (h1..hN on server a, extra hosts given) and known_hosts. */
function workspace(hosts: { name: string; server: TestHostServer }[]): { dir: string; inventory: string; knownHosts: string; root: (h: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'remedy-e2e-run-'));
  const root = (h: string) => join(dir, 'hosts', h);
  for (const h of hosts) mkdirSync(root(h.name), { recursive: true });
  const inventory = write(join(dir, 'inventory.yaml'), `all:\n  hosts:\n${hosts.map((h) => hostLine(h.name, h.server, { root: root(h.name) })).join('\n')}\n`);
  const knownHosts = write(join(dir, 'known_hosts'), `${[...new Set(hosts.map((h) => h.server.sshd.knownHostsLine))].join('\n')}\n`);
  return { dir, inventory, knownHosts, root };
}

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

const fixRunbook = `
name: e2e-fix
summary: diagnose, fix with verification, edit properties, fetch evidence
params:
  token: { type: string, secret: true, default: "dflt-T0ken" }
steps:
  - id: state
    name: read the state
    hosts: all
    run: cat {{ root }}/state
    capture:
      state: stdout
  - id: diagnose
    name: name the cause
    decide:
      causes:
        - cause: stuck
          when: hosts("all").exists(h, h.facts.state == "STUCK")
      default: none
  - id: healthy
    name: nothing to do
    when: cause == "none"
    outcome: { status: nothing-to-do, message: all good }
  - id: unstick
    name: unstick the stuck hosts
    hosts: all
    when: facts.state == "STUCK"
    run: echo OK > {{ root }}/state && echo "unstuck with {{ token }}" >> {{ root }}/log
    mutates: true
    verify:
      run: grep -qx OK {{ root }}/state
  - id: limit
    name: raise the line limit
    hosts: all
    properties:
      file: "{{ root }}/mp.properties"
      set:
        conf_http_HTTPRequest.line.limit: 8k
        conf/http.properties+secret.key: "{{ token }}"
  - id: evidence
    name: fetch the log
    hosts: all
    fetch: { src: "{{ root }}/log", optional: true }
  - id: done
    name: done
    outcome: { status: resolved, message: "unstuck" }
`;

describe('remedy run through the built CLI', () => {
  test('without --yes: diagnosis only, exit 5, nothing changed; with --yes: fixed, verified, recorded', async () => {
    const ws = workspace([
      { name: 'h1', server: a },
      { name: 'h2', server: a },
    ]);
    for (const h of ['h1', 'h2']) {
      writeFileSync(join(ws.root(h), 'state'), h === 'h2' ? 'STUCK\n' : 'OK\n');
      writeFileSync(join(ws.root(h), 'mp.properties'), '# MP overrides\nconf_http_HTTPRequest.line.limit=4k\n');
    }
    const rb = write(join(ws.dir, 'e2e-fix.yaml'), fixRunbook);
    const dry = await cli.run(['run', rb, '-i', ws.inventory, '--known-hosts', ws.knownHosts, '--run-dir', 'dry'], ws.dir);
    expect(dry.code, dry.stderr).toBe(5);
    expect(readFileSync(join(ws.root('h2'), 'state'), 'utf8')).toBe('STUCK\n');
    expect(dry.stderr).toMatch(/Refused step unstick on h2/);
    expect(dry.stderr).toContain(`h2: echo OK > ${ws.root('h2')}/state`);
    expect(JSON.parse(readFileSync(join(ws.dir, 'dry/result.json'), 'utf8'))).toMatchObject({ outcome: 'refused', exitCode: 5, cause: 'stuck' });

    const planHash = JSON.parse(readFileSync(join(ws.dir, 'dry/plan.json'), 'utf8')).planHash as string;
    const wrong = await cli.run(
      ['run', rb, '-i', ws.inventory, '--known-hosts', ws.knownHosts, '--yes', '--plan-hash', 'sha256:nope', '--run-dir', 'wrong'],
      ws.dir,
    );
    expect(wrong.code).toBe(5);
    expect(existsSync(join(ws.dir, 'wrong'))).toBe(false);

    const apply = await cli.run(
      ['run', rb, '-i', ws.inventory, '--known-hosts', ws.knownHosts, '--yes', '--plan-hash', planHash, '--run-dir', 'apply'],
      ws.dir,
    );
    expect(apply.code, apply.stderr).toBe(0);
    expect(readFileSync(join(ws.root('h2'), 'state'), 'utf8')).toBe('OK\n');
    expect(readFileSync(join(ws.root('h1'), 'mp.properties'), 'utf8')).toBe(
      '# MP overrides\nconf_http_HTTPRequest.line.limit=8k\nconf/http.properties+secret.key=dflt-T0ken\n',
    );
    const runDir = join(ws.dir, 'apply');
    for (const f of ['plan.json', 'inputs.json', 'journal.jsonl', 'result.json', 'report.md']) expect(existsSync(join(runDir, f)), f).toBe(true);
    // The fetched copy is verified, then the secret in it is masked.
    expect(readFileSync(join(ws.root('h2'), 'log'), 'utf8')).toBe('unstuck with dflt-T0ken\n');
    expect(readFileSync(join(runDir, 'artifacts/h2/log'), 'utf8')).toBe('unstuck with ********\n');
    const result = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8'));
    expect(result).toMatchObject({ outcome: 'resolved', exitCode: 0, cause: 'stuck', planHash, hosts: { h1: { status: 'ok' }, h2: { status: 'ok' } } });
    const events = journalEvents(runDir);
    expect(events[0]).toMatchObject({ type: 'run-start', mode: 'unattended', planHash });
    expect(events.find((e) => e.type === 'approval')).toMatchObject({ step: 'unstick', source: 'flag', decision: 'approved' });
    expect(events.at(-1)).toMatchObject({ type: 'run-end', outcome: 'resolved', exitCode: 0 });
    expect(readdirSync(a.tmp)).toEqual([]); // host locks released
  });

  test('hostile values from -e, inventory vars and captured facts arrive byte-exact in every quoting context, and nothing runs', async () => {
    const ws = workspace([{ name: 'h1', server: a }]);
    const canary = join(ws.dir, 'CANARY');
    const hostile = `x'; touch ${canary}; echo '$(touch ${canary})\`touch ${canary}\`"; touch ${canary}; "\\ \${HOME}`;
    const inventory = write(join(ws.dir, 'hostile-inventory.yaml'), `all:\n  hosts:\n${hostLine('h1', a, { root: ws.root('h1'), ivar: hostile })}\n`);
    writeFileSync(join(ws.root('h1'), 'hostile'), hostile);
    const rb = write(
      join(ws.dir, 'contexts.yaml'),
      `name: contexts
summary: every quoting context
params:
  note: { type: string, default: "-" }
steps:
  - id: read
    name: read the value
    hosts: all
    run: cat {{ root }}/hostile
    capture:
      f: stdout
  - id: show
    name: print it in every context
    hosts: all
    run: |
      printf '%s|' {{ note }} "{{ note }}" '{{ note }}' {{ ivar }} "{{ ivar }}" '{{ ivar }}' {{ facts.f }} "n: {{ facts.f }}" 'q: {{ facts.f }}'
      cat <<EOF
      {{ note }}|{{ ivar }}|{{ facts.f }}
      EOF
      cat <<'EOF'
      {{ note }}|{{ ivar }}|{{ facts.f }}
      EOF
  - id: done
    name: done
    outcome: { status: resolved, message: shown }
`,
    );
    const r = await cli.run(['run', rb, '-i', inventory, '--known-hosts', ws.knownHosts, '--yes', '--run-dir', 'run', '-e', `note=${hostile}`], ws.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(canary)).toBe(false);
    const h = hostile;
    expect(readFileSync(join(ws.dir, 'run/outputs/show/h1.stdout'), 'utf8')).toBe(
      `${h}|${h}|${h}|${h}|${h}|${h}|${h}|n: ${h}|q: ${h}|${h}|${h}|${h}\n${h}|${h}|${h}\n`,
    );
  });

  test('hostile values are never executed and secrets are in no file of the run directory', async () => {
    const ws = workspace([{ name: 'h1', server: a }]);
    const canary = join(ws.dir, 'CANARY');
    writeFileSync(join(ws.root('h1'), 'state'), 'STUCK\n');
    writeFileSync(join(ws.root('h1'), 'mp.properties'), 'x=1\n');
    const rb = write(
      join(ws.dir, 'e2e-fix.yaml'),
      fixRunbook
        .replace('params:\n', `params:\n  note: { type: string, default: "-" }\n`)
        .replace('cat {{ root }}/state', 'cat {{ root }}/state; printf "%s\\n" {{ note }} >&2'),
    );
    const secret = 'Sup3r-S3cret-Value-42';
    const hostile = `x'; touch ${canary}; echo '$(touch ${canary})\`touch ${canary}\``;
    const r = await cli.run(
      ['run', rb, '-i', ws.inventory, '--known-hosts', ws.knownHosts, '--yes', '--run-dir', 'run', '-e', `token=${secret}`, '-e', `note=${hostile}`],
      ws.dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(canary)).toBe(false);
    // The secret did reach the host (the fix wrote it), and the hostile value arrived as data.
    expect(readFileSync(join(ws.root('h1'), 'log'), 'utf8')).toBe(`unstuck with ${secret}\n`);
    expect(readFileSync(join(ws.root('h1'), 'mp.properties'), 'utf8')).toContain(`secret.key=${secret}`);
    const runDir = join(ws.dir, 'run');
    expect(readFileSync(join(runDir, 'outputs/state/h1.stderr'), 'utf8')).toBe(`${hostile}\n`);
    const files = allFiles(runDir);
    expect(files.length).toBeGreaterThan(6);
    for (const f of files) expect(readFileSync(f, 'utf8').includes(secret), f).toBe(false);
    expect(r.stderr.includes(secret)).toBe(false);
    expect(r.stdout.includes(secret)).toBe(false);
    expect(readFileSync(join(runDir, 'artifacts/h1/log'), 'utf8')).toBe('unstuck with ********\n');
  });
});

const appendRunbook = `
name: e2e-append
summary: two mutations per host, one host at a time
steps:
  - id: look
    name: look
    hosts: all
    run: sleep 0.3; echo looked
  - id: append
    name: append a line
    hosts: all
    serial: 1
    run: echo line >> {{ root }}/lines; sleep 0.6
    mutates: true
    verify:
      run: grep -q line {{ root }}/lines
  - id: mark
    name: mark the host
    hosts: all
    run: echo mark >> {{ root }}/marks; sleep 0.4
    mutates: true
    verify:
      run: grep -q mark {{ root }}/marks
  - id: done
    name: done
    outcome: { status: resolved, message: appended }
`;

type Ev = ReturnType<typeof journalEvents>[number];
const killPoints: [string, (e: Ev[]) => boolean, number][] = [
  ['during the read-only diagnosis', (e) => e.some((x) => x.type === 'host-start' && x.step === 'look'), 50],
  ['while the first mutation runs on h1', (e) => e.some((x) => x.type === 'host-start' && x.step === 'append' && x.host === 'h1'), 200],
  [
    'right after a mutation finished on h2, before h3',
    (e) => e.some((x) => x.type === 'host-end' && x.step === 'append' && x.host === 'h2' && x.final === true),
    0,
  ],
  [
    'between the mutation and its verification on h3',
    (e) => e.some((x) => x.type === 'host-end' && x.step === 'append' && x.host === 'h3' && x.phase === undefined),
    0,
  ],
  ['while the second mutation runs', (e) => e.some((x) => x.type === 'host-start' && x.step === 'mark'), 150],
];

describe('SIGKILL of the controller, then remedy resume', () => {
  test.each(killPoints)('killed %s: resume runs no mutating step twice', async (_what, predicate, delayMs) => {
    const ws = workspace([
      { name: 'h1', server: a },
      { name: 'h2', server: a },
      { name: 'h3', server: a },
    ]);
    const rb = write(join(ws.dir, 'e2e-append.yaml'), appendRunbook);
    const runDir = join(ws.dir, 'run');
    const child = cli.spawn(['run', rb, '-i', ws.inventory, '--known-hosts', ws.knownHosts, '--yes', '--run-dir', runDir, '--output', 'jsonl'], ws.dir);
    const done = collect(child);
    await waitFor(() => predicate(journalEvents(runDir)), 30_000, 'the kill point');
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    expect(journalEvents(runDir).some((e) => e.type === 'run-end')).toBe(false);
    await new Promise((r) => setTimeout(r, 800)); // let a command cut short on the host finish

    const resumed = await cli.run(['resume', runDir, '--yes', '--known-hosts', ws.knownHosts], ws.dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const h of ['h1', 'h2', 'h3']) {
      expect(readFileSync(join(ws.root(h), 'lines'), 'utf8'), `${h} lines`).toBe('line\n');
      expect(readFileSync(join(ws.root(h), 'marks'), 'utf8'), `${h} marks`).toBe('mark\n');
    }
    const events = journalEvents(runDir);
    const starts = events.filter((e) => e.type === 'run-start');
    expect(starts).toHaveLength(2);
    expect(starts[1]).toMatchObject({ runId: starts[0]?.runId, resumedFrom: starts[0]?.time });
    // One numbering across both segments (host-output events are not journaled, hence gaps).
    expect(events.every((e, i) => i === 0 || e.seq > (events[i - 1] as Ev).seq)).toBe(true);
    expect(JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8'))).toMatchObject({ outcome: 'resolved', exitCode: 0 });
    expect(readdirSync(a.tmp)).toEqual([]);
  });
});

describe('locks and result files of a resumed or ended run (issue 17, defects 6 and 7)', () => {
  const settleRunbook = `${appendRunbook.replace(/  - id: done[\s\S]*$/, '')}  - id: settle
    name: let it settle
    pause: 4s
  - id: done
    name: done
    outcome: { status: resolved, message: appended }
`;

  test('killed after the last mutation: the resumed segment locks nothing itself and still releases every lock of the run', async () => {
    const ws = workspace([
      { name: 'h1', server: a },
      { name: 'h2', server: a },
    ]);
    const rb = write(join(ws.dir, 'e2e-settle.yaml'), settleRunbook);
    const runDir = join(ws.dir, 'run');
    const child = cli.spawn(['run', rb, '-i', ws.inventory, '--known-hosts', ws.knownHosts, '--yes', '--run-dir', runDir, '--output', 'jsonl'], ws.dir);
    const done = collect(child);
    await waitFor(() => journalEvents(runDir).some((x) => x.type === 'step-start' && x.step === 'settle'), 60_000, 'the pause after the last mutation');
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    // The killed controller left its lock on the hosts (one lock dir per host root; both share a TMPDIR here).
    expect(readdirSync(a.tmp)).toEqual(['remedy.lock']);

    const resumed = await cli.run(['resume', runDir, '--yes', '--known-hosts', ws.knownHosts], ws.dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    const second = journalEvents(runDir).slice(journalEvents(runDir).findLastIndex((e) => e.type === 'run-start'));
    expect(second.filter((e) => e.type === 'lock' && e.action !== 'released')).toEqual([]);
    expect(second.filter((e) => e.type === 'lock' && e.action === 'released').length).toBeGreaterThan(0);
    expect(readdirSync(a.tmp)).toEqual([]);
    // The next run is not refused.
    const next = await cli.run(['run', rb, '-i', ws.inventory, '--known-hosts', ws.knownHosts, '--yes', '--run-dir', join(ws.dir, 'run2')], ws.dir);
    expect(next.code, next.stderr).toBe(0);
  }, 120_000);

  test("an ended run whose result files are missing (killed just after run-end): resume rebuilds them and exits with the run's own code", async () => {
    const ws = workspace([{ name: 'h1', server: a }]);
    const rb = write(
      join(ws.dir, 'e2e-escalate.yaml'),
      `
name: e2e-escalate
summary: looks, then hands over
steps:
  - id: look
    name: look
    hosts: all
    run: echo looked
  - id: handover
    name: hand over
    outcome: { status: escalate, message: people decide }
`,
    );
    const runDir = join(ws.dir, 'run');
    const first = await cli.run(['run', rb, '-i', ws.inventory, '--known-hosts', ws.knownHosts, '--run-dir', runDir], ws.dir);
    expect(first.code, first.stderr).toBe(3);
    const result = readFileSync(join(runDir, 'result.json'), 'utf8');
    const report = readFileSync(join(runDir, 'report.md'), 'utf8');
    rmSync(join(runDir, 'result.json'));
    rmSync(join(runDir, 'report.md'));

    const resumed = await cli.run(['resume', runDir, '--known-hosts', ws.knownHosts], ws.dir);
    expect(resumed.code, resumed.stderr).toBe(3);
    expect(resumed.stderr).toMatch(/rebuilt result\.json and report\.md from the journal/);
    expect(resumed.stderr).toMatch(/already ended \(escalated, exit 3\)/);
    expect(JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8'))).toEqual(JSON.parse(result));
    expect(readFileSync(join(runDir, 'report.md'), 'utf8')).toBe(report);
    // No new segment: the journal still holds one run.
    expect(journalEvents(runDir).filter((e) => e.type === 'run-start')).toHaveLength(1);
    // With the files present, resume changes nothing and still answers the run's code.
    const again = await cli.run(['resume', runDir], ws.dir);
    expect(again.code, again.stderr).toBe(3);
    expect(again.stderr).not.toMatch(/rebuilt/);
  }, 120_000);
});

describe('a host whose sshd stops mid-run', () => {
  test('is unreachable at the next step; the run ends unreachable (exit 4)', async () => {
    const b = await startHostServer();
    servers.push(b);
    const ws = workspace([
      { name: 'h1', server: a },
      { name: 'h4', server: b },
    ]);
    const rb = write(
      join(ws.dir, 'e2e-stop.yaml'),
      `
name: e2e-stop
summary: a host goes away
steps:
  - id: first
    name: first look
    hosts: all
    run: echo first
  - id: wait
    name: wait a little
    pause: 3s
  - id: second
    name: second look
    hosts: all
    run: echo second
`,
    );
    const runDir = join(ws.dir, 'run');
    const child = cli.spawn(['run', rb, '-i', ws.inventory, '--known-hosts', ws.knownHosts, '--run-dir', runDir], ws.dir);
    const done = collect(child);
    await waitFor(() => journalEvents(runDir).some((e) => e.type === 'step-start' && e.step === 'wait'), 30_000, 'the pause');
    await b.sshd.stop();
    const r = await done;
    expect(r.code, r.stderr).toBe(4);
    const result = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8'));
    expect(result).toMatchObject({ outcome: 'unreachable', exitCode: 4, hosts: { h1: { status: 'ok' }, h4: { status: 'unreachable' } } });
    const end = journalEvents(runDir).find((e) => e.type === 'host-end' && e.step === 'second' && e.host === 'h4');
    expect(end).toMatchObject({ status: 'unreachable' });
    // The sshd is gone for good: nothing of it is left running.
    expect(() => execFileSync('kill', ['-0', String(b.sshd.pid)])).toThrow();
  });
});

describe('Ctrl-C', () => {
  const slowRunbook = `
name: e2e-slow
summary: slow steps
steps:
  - id: slow
    name: a slow mutation
    hosts: all
    run: echo started >> {{ root }}/progress; sleep 3; echo finished >> {{ root }}/progress
    mutates: true
  - id: after
    name: never started after an interrupt
    hosts: all
    run: echo after >> {{ root }}/progress
    mutates: true
`;
  test('the first SIGINT lets the running command finish and starts nothing new; exit 130, locks released', async () => {
    const ws = workspace([{ name: 'h1', server: a }]);
    const rb = write(join(ws.dir, 'e2e-slow.yaml'), slowRunbook);
    const runDir = join(ws.dir, 'run');
    const child = cli.spawn(['run', rb, '-i', ws.inventory, '--known-hosts', ws.knownHosts, '--yes', '--run-dir', runDir], ws.dir);
    const done = collect(child);
    await waitFor(() => journalEvents(runDir).some((e) => e.type === 'host-start' && e.step === 'slow'), 30_000, 'the slow step');
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(readFileSync(join(ws.root('h1'), 'progress'), 'utf8')).toBe('started\nfinished\n');
    const events = journalEvents(runDir);
    expect(events.at(-1)).toMatchObject({ type: 'run-end', outcome: 'interrupted', exitCode: 130 });
    expect(events.some((e) => e.type === 'step-start' && e.step === 'after')).toBe(false);
    expect(JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8'))).toMatchObject({ outcome: 'interrupted' });
    expect(readdirSync(a.tmp), readFileSync(join(runDir, 'journal.jsonl'), 'utf8')).toEqual([]);
  });

  test('a second SIGINT kills the running command on the host', async () => {
    const ws = workspace([{ name: 'h1', server: a }]);
    const rb = write(join(ws.dir, 'e2e-slow.yaml'), slowRunbook);
    const runDir = join(ws.dir, 'run');
    const child = cli.spawn(['run', rb, '-i', ws.inventory, '--known-hosts', ws.knownHosts, '--yes', '--run-dir', runDir], ws.dir);
    const done = collect(child);
    await waitFor(() => journalEvents(runDir).some((e) => e.type === 'host-start' && e.step === 'slow'), 30_000, 'the slow step');
    const t0 = Date.now();
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(Date.now() - t0).toBeLessThan(2800);
    await new Promise((r2) => setTimeout(r2, 3500));
    expect(readFileSync(join(ws.root('h1'), 'progress'), 'utf8')).toBe('started\n');
    expect(journalEvents(runDir).at(-1)).toMatchObject({ type: 'run-end', outcome: 'interrupted' });
  });
});
