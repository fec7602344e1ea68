// The executor over real SSH connections to an in-process ssh2 server that runs commands through
// /bin/sh: captures, decisions, a verified mutation, a properties edit, a fetch, a timeout that
// kills the remote process, hostile values that stay data, an unreachable host.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MemorySink } from '../../src/engine/emitter.js';
import { executePlan } from '../../src/engine/executor.js';
import { UnattendedStrategy } from '../../src/engine/strategy.js';
import { TransportPool } from '../../src/transport/index.js';
import { startSshServer, type TestSshServer } from '../helpers/ssh-server.js';
import { freePort } from '../helpers/sshd.js';
import { planOf, tempDir } from './helpers.js';

let srv: TestSshServer;
let work: string;

beforeAll(async () => {
  work = tempDir('remedy-ssh-int-');
  // Host locks live under the remote TMPDIR: keep this server's apart from any other run's.
  srv = await startSshServer({ env: { TMPDIR: work } });
});
afterAll(async () => {
  await srv?.stop();
});

function inventory(extraHost = ''): string {
  const host = (name: string) =>
    `    ${name}: { ansible_host: 127.0.0.1, ansible_port: ${srv.port}, ansible_user: ${srv.user}, ansible_ssh_private_key_file: ${srv.clientKeyFile}, root: "${work}/${name}" }`;
  return `all:\n  hosts:\n${host('mp1')}\n${host('mp2')}\n${extraHost}`;
}

async function run(runbook: string, options: { yes?: boolean; extraVars?: string[]; inventory?: string; runDir?: string } = {}) {
  const { plan, inventory: inv } = planOf(runbook, { inventory: options.inventory ?? inventory(), extraVars: options.extraVars });
  const pool = new TransportPool({ knownHostsFiles: [srv.knownHostsFile], agent: false, sshConfigFile: false, inventory: inv, connectTimeoutMs: 5000 });
  const sink = new MemorySink();
  try {
    const result = await executePlan({
      plan,
      inventory: inv,
      transports: pool,
      strategy: new UnattendedStrategy({ yes: options.yes ?? true, operator: 'it' }),
      sinks: [sink],
      runId: 'it-run',
      runDir: options.runDir ?? tempDir(),
      forks: 10,
    });
    return { result, events: sink.events };
  } finally {
    await pool.closeAll();
  }
}

describe('executor over ssh2', () => {
  test('diagnose, decide, apply a verified fix, edit properties, fetch a file', async () => {
    for (const h of ['mp1', 'mp2']) {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(work, h, 'tmp'), { recursive: true });
      writeFileSync(join(work, h, 'mp.properties'), `# MP\nconf_http_HTTPRequest.line.limit=4k\n`);
      writeFileSync(join(work, h, 'state'), h === 'mp2' ? 'STUCK\n' : 'OK\n');
    }
    const runDir = tempDir();
    const { result, events } = await run(
      `
name: t
summary: end to end over ssh
steps:
  - id: state
    name: read the state
    hosts: all
    run: cat {{ root }}/state
    capture:
      state: stdout
  - id: diagnose
    name: decide
    decide:
      causes:
        - cause: stuck
          when: hosts("all").exists(h, h.facts.state == "STUCK")
  - id: unstick
    name: unstick
    hosts: all
    when: facts.state == "STUCK"
    run: echo OK > {{ root }}/state && echo unstuck >> {{ root }}/log
    mutates: true
    verify:
      run: grep -qx OK {{ root }}/state
  - id: limit
    name: raise the line limit
    hosts: all
    when: cause == "stuck"
    properties:
      file: "{{ root }}/mp.properties"
      set: { conf_http_HTTPRequest.line.limit: 8k }
  - id: grab
    name: fetch the log
    hosts: mp2
    fetch: { src: "{{ root }}/log" }
  - id: done
    name: unstuck
    when: cause == "stuck"
    outcome:
      status: resolved
      require: hosts("all").all(h, h.facts.state != "STUCK" || h.name in steps.unstick.changed)
      message: "unstuck {{ steps.unstick.changed | join: ', ' }}"
`,
      { runDir },
    );
    expect(result).toMatchObject({ outcome: 'resolved', exitCode: 0, cause: 'stuck', message: 'unstuck mp2', hosts: { mp1: 'ok', mp2: 'ok' } });
    expect(readFileSync(join(work, 'mp2/log'), 'utf8')).toBe('unstuck\n');
    expect(existsSync(join(work, 'mp1/log'))).toBe(false);
    expect(readFileSync(join(work, 'mp1/mp.properties'), 'utf8')).toBe('# MP\nconf_http_HTTPRequest.line.limit=8k\n');
    expect(readFileSync(join(work, 'mp1/mp.properties.remedy-it-run.bak'), 'utf8')).toContain('=4k');
    expect(readFileSync(join(runDir, 'artifacts/mp2/log'), 'utf8')).toBe('unstuck\n');
    const locks = events.filter((e) => e.type === 'lock').map((e) => (e as { host: string; action: string }).action);
    expect(locks.filter((a) => a === 'acquired').length).toBe(2);
    expect(locks.filter((a) => a === 'released').length).toBe(2);
  });

  test('a timeout kills the remote process group: the command after the sleep never runs', async () => {
    const marker = join(work, 'timeout-marker');
    const started = Date.now();
    const { result, events } = await run(`
name: t
summary: timeout
steps:
  - id: slow
    name: slow
    hosts: mp1
    run: sh -c 'sleep 2; touch ${marker}' & sleep 2; touch ${marker}
    timeout: 500ms
`);
    expect(Date.now() - started).toBeLessThan(1900);
    expect(result).toMatchObject({ outcome: 'failed', exitCode: 1 });
    expect(events.find((e) => e.type === 'host-end')).toMatchObject({ status: 'timed-out' });
    await sleep(2500);
    expect(existsSync(marker)).toBe(false);
  }, 15_000);

  test('a command that fails under on_failure: continue gives no facts and no all-clear; its host is failed', async () => {
    const { result, events } = await run(`
name: t
summary: a failed health read is not health
steps:
  - id: health
    name: health code
    hosts: all
    on_failure: continue
    run: echo code=0; [ "{{ inventory_hostname }}" = mp2 ] || exit 5
    capture:
      code: { from: stdout, regex: '^code=(\\d+)$', as: integer, default: 0 }
      exit: exit_code
  - id: fine
    name: all clear
    outcome:
      status: nothing-to-do
      require: hosts("all").all(h, h.facts.code == 0)
      message: every host reports code 0
`);
    const ends = events.filter((e) => e.type === 'host-end' && e.step === 'health') as Extract<(typeof events)[number], { type: 'host-end' }>[];
    expect(ends.find((e) => e.host === 'mp1')).toMatchObject({ status: 'failed', exitCode: 5, facts: { exit: 5 }, unsetFacts: ['code'] });
    expect(ends.find((e) => e.host === 'mp2')).toMatchObject({ status: 'ok', facts: { code: 0, exit: 0 } });
    expect(result).toMatchObject({ outcome: 'escalated', exitCode: 3, hosts: { mp1: 'failed', mp2: 'ok' } });
    expect(result.facts.mp1).toEqual({ exit: 5 });
    expect(result.message).toMatch(/cannot claim "nothing-to-do"/);
  });

  test('hostile param values are data, never code (canary file)', async () => {
    const canary = join(work, 'CANARY');
    const hostile = [`x'; touch ${canary}; '`, `$(touch ${canary})`, `\`touch ${canary}\``, `a\nb; touch ${canary}`, `"; touch ${canary}; "`];
    for (const value of hostile) {
      const { result, events } = await run(
        `
name: t
summary: hostile
params:
  v: { type: string }
steps:
  - id: echo
    name: echo the value
    hosts: mp1
    run: printf '%s' {{ v }}
    capture:
      out: { from: stdout }
`,
        { extraVars: [`v=${value}`] },
      );
      expect(result.exitCode).toBe(0);
      expect(existsSync(canary)).toBe(false);
      const end = events.find((e) => e.type === 'host-end') as { facts?: { out?: string } };
      expect(end.facts?.out).toBe(value.trim());
    }
  });

  test('a host that cannot be reached is unreachable; the others go on when tolerated', async () => {
    const port = await freePort();
    const inv = inventory(`    down: { ansible_host: 127.0.0.1, ansible_port: ${port}, ansible_user: x, root: "${work}/down" }\n`);
    const { result, events } = await run(
      `
name: t
summary: one host down
steps:
  - id: look
    name: look
    hosts: all
    run: echo hi
    on_failure: continue
`,
      { inventory: inv },
    );
    expect(result.hosts).toEqual({ mp1: 'ok', mp2: 'ok', down: 'unreachable' });
    const end = events.find((e) => e.type === 'host-end' && (e as { host: string }).host === 'down') as { status: string; error: string };
    expect(end.status).toBe('unreachable');
    expect(end.error).toMatch(/down/);
  });
});
