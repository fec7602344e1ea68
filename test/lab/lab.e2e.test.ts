// The lab end to end: real sshd per host, nginx Routers, JVM MPs, a JVM backend. Each fault is
// switched on with labBreak and observed only through real components: HTTP status codes from
// the Routers, nginx's own log lines, jstack on the JVM, SSH + sudo + apigee-service.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadInventory } from '../../src/inventory/index.js';
import { childPids, httpRequest, isAlive, readPidFile, waitFor } from '../../src/lab/exec.js';
import { labBreak, labBreakMany, labDown, labHeal, labStatus, labUp, readState, type LabInfo } from '../../src/lab/index.js';
import { allPorts, apigeePaths, mps, routerLogFiles, routers, routerUrl } from '../../src/lab/topology.js';
import type { LabMpHost, LabRouterHost, LabTopology } from '../../src/lab/types.js';

const exec = promisify(execFile);
let dir: string;
let lab: LabInfo;
let t: LabTopology;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'remedy-lab-e2e-'));
  lab = await labUp({ dir });
  t = readState(dir).topology;
});

afterAll(async () => {
  if (existsSync(join(dir, 'lab.json')) && readState(dir).running) await labDown(dir).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const router = (name: string): LabRouterHost => routers(t).find((r) => r.name === name)!;
const mp = (name: string): LabMpHost => mps(t).find((m) => m.name === name)!;

async function get(url: string, timeoutMs = 10_000) {
  const r = await httpRequest(url, { timeoutMs });
  if (!r) throw new Error(`no answer from ${url}`);
  return r;
}

/** Runs a command on a lab host through its own sshd, with strict host-key checking. */
async function ssh(host: string, command: string): Promise<{ code: number; out: string }> {
  try {
    const r = await exec('ssh', ['-F', lab.sshConfig, '-o', 'BatchMode=yes', host, command], { timeout: 60_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** Lines appended to a log file since `mark` (its size when the scenario started). */
function logSince(file: string, mark: number): string {
  return readFileSync(file).subarray(mark).toString('utf8');
}
const sizeOf = (file: string) => (existsSync(file) ? statSync(file).size : 0);

const nginxLine = (level: string, message: string, upstream: string) =>
  new RegExp(
    String.raw`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[${level}\] \d+#\d+: \*\d+ ${message}, client: 127\.0\.0\.1, server: myorg-prod\.apigee\.lab, request: "GET /v1/hello HTTP/1\.1", upstream: "${upstream.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/v1/hello", host: "127\.0\.0\.1:\d+"$`,
    'm',
  );

describe('remedy lab', () => {
  it('comes up healthy within seconds: every Router answers 200 end to end', async () => {
    expect(lab.elapsedMs).toBeLessThan(30_000);
    expect(lab.routers.map((r) => [r.name, r.region])).toEqual([
      ['router-1', 'dc_1'],
      ['router-2', 'dc_2'],
    ]);
    for (const r of lab.routers) {
      const res = await get(r.url);
      expect(res.status).toBe(200);
      expect(res.body).toContain('hello from the lab backend');
      expect(res.headers['x-apigee-message-id']).toMatch(/^rrt-/);
    }
    const status = await labStatus(dir);
    expect(status.hosts.every((h) => h.sshd === 'up' && h.service === 'running' && h.ready)).toBe(true);
    expect(status.routers.map((r) => r.status)).toEqual([200, 200]);
  });

  it('writes an inventory whose host vars reach every host over SSH with pinned host keys', async () => {
    const inv = parse(readFileSync(lab.inventory, 'utf8')) as { all: { children: Record<string, { hosts: Record<string, Record<string, unknown>> }> } };
    const vars = { ...inv.all.children.routers!.hosts, ...inv.all.children.message_processors!.hosts };
    expect(Object.keys(vars).sort()).toEqual(['mp-1', 'mp-2', 'mp-3', 'mp-4', 'router-1', 'router-2']);
    // remedy's own inventory reader resolves the same connection and become settings.
    const loaded = loadInventory(lab.inventory).hosts.get('mp-1')!;
    expect(loaded.connection).toMatchObject({ address: '127.0.0.1', port: mp('mp-1').sshPort, user: lab.loginUser, privateKeyFile: lab.privateKeyFile, knownHostsFile: lab.knownHosts });
    expect(loaded.become.method).toBe('sudo');
    expect(loaded.groups).toEqual(['all', 'dc_1', 'dc_1_message_processors', 'message_processors']);
    expect(loaded.vars.mp_mgmt_port).toBe(mp('mp-1').mpMgmtPort);
    const outs = await Promise.all(
      Object.entries(vars).map(async ([name, v]) => {
        const r = await exec('ssh', [
          '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${String(v.remedy_known_hosts)}`,
          '-i', String(v.ansible_ssh_private_key_file), '-p', String(v.ansible_port), `${String(v.ansible_user)}@${String(v.ansible_host)}`,
          `test -x ${String(v.apigee_root)}/apigee-service/bin/apigee-service && sudo -n -u ${String(v.apigee_user)} id -un && echo "$HOME" && ls -A ~`,
        ]);
        return [name, r.stdout] as const;
      }),
    );
    for (const [, out] of outs) expect(out).toBe('apigee\n/home/remedy-lab\n'); // clean home: no rc files
    // Each host has its own key: presenting another host's key for mp-1's port fails.
    const keys = readFileSync(lab.knownHosts, 'utf8').trim().split('\n');
    expect(new Set(keys.map((l) => l.split(' ')[2])).size).toBe(6);
    const wrong = join(dir, 'wrong_known_hosts');
    const other = keys.find((l) => l.startsWith(`[127.0.0.1]:${mp('mp-2').sshPort} `))!;
    writeFileSync(wrong, other.replace(`:${mp('mp-2').sshPort} `, `:${mp('mp-1').sshPort} `) + '\n');
    const refused = await exec('ssh', ['-F', lab.sshConfig, '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${wrong}`, 'mp-1', 'true']).catch((e: { stderr: string }) => e);
    expect((refused as { stderr: string }).stderr).toContain('Host key verification failed');
  });

  it('runs MPs as JVMs of the service user with Apigee-like files, answering the management API', async () => {
    const m = mp('mp-1');
    const p = apigeePaths(m.apigeeRoot);
    const pid = readPidFile(p.mpPidFile)!;
    const { stdout } = await exec('ps', ['-o', 'user=,args=', '-p', String(pid)]);
    expect(stdout).toMatch(/^apigee +\S+\/java .*-Dinstallation\.dir=\S+\/mp-1\/opt\/apigee\/edge-message-processor .*LabMicroKernel$/m);
    const self = JSON.parse((await get(`http://127.0.0.1:${m.mpMgmtPort}/v1/servers/self`)).body) as { region: string; type: string[]; tags: { property: { name: string; value: string }[] } };
    expect(self).toMatchObject({ region: 'dc-1', type: ['message-processor'] });
    expect(self.tags.property.find((x) => x.name === 'http.port')?.value).toBe(String(m.mpPort));
    expect(readFileSync(p.mpSystemLog, 'utf8')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} org:myorg env:prod main INFO KERNEL - MicroKernel\.start\(\) : message-processor is up$/m);
    const ready = await ssh('mp-1', `sudo -n ${p.apigeeService} edge-message-processor wait_for_ready`);
    expect(ready).toEqual({ code: 0, out: 'Checking if message-processor is up: message-processor is up.\n' });
    expect((await ssh('mp-1', `sudo -n ${p.apigeeAll} status`)).out).toBe('apigee-service: edge-message-processor: OK\n');
  });

  it('mps-down: connect() failed (111) then no live upstreams, 502 from the Router; a restart over SSH fixes it', async () => {
    const r1 = router('router-1');
    const { error } = routerLogFiles(t, r1);
    const mark = sizeOf(error);
    await labBreak(dir, 'mps-down', ['dc_1']);
    const first = await get(routerUrl(r1));
    const second = await get(routerUrl(r1));
    expect([first.status, second.status]).toEqual([502, 502]);
    expect(first.body).toContain('An error occurred.');
    expect((await get(routerUrl(router('router-2')))).status).toBe(200);
    const log = logSince(error, mark);
    expect(log).toMatch(nginxLine('error', String.raw`connect\(\) failed \(111: Connection refused\) while connecting to upstream`, `http://127.0.0.1:${mp('mp-1').mpPort}`));
    expect(log).toMatch(nginxLine('error', 'no live upstreams while connecting to upstream', 'http://mps_dc_1'));

    const svc = apigeePaths(mp('mp-1').apigeeRoot).apigeeService;
    expect(await ssh('mp-1', `sudo -n ${svc} edge-message-processor status`)).toEqual({ code: 1, out: 'apigee-service: edge-message-processor: Not running\n' });
    for (const name of ['mp-1', 'mp-2']) {
      const s = apigeePaths(mp(name).apigeeRoot).apigeeService;
      const r = await ssh(name, `sudo -n ${s} edge-message-processor restart && sudo -n ${s} edge-message-processor wait_for_ready`);
      expect(r.code).toBe(0);
    }
    expect(await waitFor(async () => (await get(routerUrl(r1))).status === 200, 15_000, 500)).toBe(true);
  });

  it('mps-busy: threads spin, the Router times out (504), the JVM stays up for jstack', async () => {
    const r2 = router('router-2');
    const { error } = routerLogFiles(t, r2);
    const mark = sizeOf(error);
    await labBreak(dir, 'mps-busy', ['dc_2']);
    const started = Date.now();
    const res = await get(routerUrl(r2));
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500); // the lab's 3s proxy_read_timeout
    expect(logSince(error, mark)).toMatch(/\[error\] .*upstream timed out \(110: Connection timed out\) while reading response header from upstream, .*upstream: "http:\/\/127\.0\.0\.1:\d+\/v1\/hello"/);

    const m3 = mp('mp-3');
    const pid = readPidFile(apigeePaths(m3.apigeeRoot).mpPidFile)!;
    expect(isAlive(pid)).toBe(true);
    const ticks = () => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(f[11]) + Number(f[12]); // utime + stime
    };
    const before = ticks();
    await new Promise((r) => setTimeout(r, 1000));
    expect(ticks() - before).toBeGreaterThan(10); // > 10% of a CPU while idle MPs use ~0: it spins
    const dump = await ssh('mp-3', `sudo -n -u apigee jstack -l $(cat ${apigeePaths(m3.apigeeRoot).mpPidFile})`);
    expect(dump.code).toBe(0);
    expect(dump.out).toMatch(/"NIOThread@\d+"[^\n]*\n\s+java\.lang\.Thread\.State: RUNNABLE\n\s+at LabMicroKernel\$MessageFlow\.executePolicies/);
    const up = await httpRequest(`http://127.0.0.1:${m3.mpMgmtPort}/v1/servers/self/up`, { timeoutMs: 1000 });
    expect(up).toBeNull(); // the management API stalls too

    await labHeal(dir);
    expect((await get(routerUrl(r2))).status).toBe(200);
  });

  it('router-mp-tls: nginx logs exactly "peer closed connection in SSL handshake" and answers 502', async () => {
    const r1 = router('router-1');
    const { error } = routerLogFiles(t, r1);
    const mark = sizeOf(error);
    await labBreak(dir, 'router-mp-tls');
    const props = readFileSync(apigeePaths(mp('mp-1').apigeeRoot).mpProperties, 'utf8');
    expect(props).toContain('conf_message-processor-communication_local.http.ssl=true\n');
    expect(props).toContain(`conf/message-processor-communication.properties+local.http.port=${mp('mp-1').mpPort}\n`);
    expect((await get(routerUrl(r1))).status).toBe(502);
    expect((await get(routerUrl(router('router-2')))).status).toBe(502);
    const log = logSince(error, mark);
    const plainPorts = [mp('mp-1').mpPort, mp('mp-2').mpPort];
    expect(plainPorts.some((port) => nginxLine('error', 'peer closed connection in SSL handshake while SSL handshaking to upstream', `https://127.0.0.1:${port}`).test(log))).toBe(true);
    expect(log).not.toMatch(/Connection reset by peer|wrong version number|timed out/);
    await labHeal(dir);
    expect((await get(routerUrl(r1))).status).toBe(200);
  });

  it('stale-router-config: MPs on TLS, old conf.d kept → 502 until conf.d is deleted and the Router restarted', async () => {
    const r1 = router('router-1');
    await labBreak(dir, 'stale-router-config', ['dc_1']);
    expect((await get(routerUrl(r1))).status).toBe(502);
    expect((await get(routerUrl(router('router-2')))).status).toBe(200);
    const m1 = mp('mp-1');
    const self = JSON.parse((await get(`http://127.0.0.1:${m1.mpMgmtPort}/v1/servers/self`)).body) as { tags: { property: { name: string; value: string }[] } };
    expect(self.tags.property.find((x) => x.name === 'http.port')?.value).toBe(String(m1.mpTlsPort));
    const confFile = join(r1.nginxConfDir, 'myorg_prod_default.conf');
    expect(readFileSync(confFile, 'utf8')).toContain(`server 127.0.0.1:${m1.mpPort} `);

    // The documented fix, as a runbook would run it on the Router.
    const svc = apigeePaths(r1.apigeeRoot).apigeeService;
    const fix = await ssh('router-1', `sudo -n sh -c '${svc} edge-router stop && rm -f ${r1.nginxConfDir}/* && ${svc} edge-router start && ${svc} edge-router wait_for_ready'`);
    expect(fix.code).toBe(0);
    expect(fix.out).toContain('Checking if router is up: router is up.');
    const conf = readFileSync(confFile, 'utf8');
    expect(conf).toContain(`server 127.0.0.1:${m1.mpTlsPort} `);
    expect(conf).toContain('proxy_pass https://mps_dc_1;');
    expect((await get(routerUrl(r1))).status).toBe(200);
    await labHeal(dir);
  });

  it('backend-error: the access log shows fault source target and ErrorResponseCode for the message id', async () => {
    const r1 = router('router-1');
    const { access } = routerLogFiles(t, r1);
    await labBreak(dir, 'backend-error');
    const res = await get(routerUrl(r1));
    expect(res.status).toBe(502);
    expect(res.body).toContain('<center><h1>502 Bad Gateway</h1></center>'); // the backend's page, passed through
    // nginx writes the access log after the response has gone out: wait for this request's line.
    const id = String(res.headers['x-apigee-message-id']);
    const lineOf = () => readFileSync(access, 'utf8').split('\n').find((l) => l.split('\t')[12] === id);
    expect(await waitFor(() => lineOf() !== undefined, 3000)).toBe(true);
    const fields = lineOf()!.split('\t');
    expect(fields).toHaveLength(26);
    expect(fields[7]).toBe('502');
    expect(fields[8]).toBe('502');
    expect(fields[12]).toBe(res.headers['x-apigee-message-id']);
    expect(fields[17]).toBe('target');
    expect(fields[18]).toBe('messaging.adaptors.http.flow.ErrorResponseCode');
    const logs = mps(t).map((m) => readFileSync(apigeePaths(m.apigeeRoot).mpSystemLog, 'utf8')).join('');
    expect(logs).toContain(`messageid:${fields[12]} `);
    await labHeal(dir);
    expect((await get(routerUrl(r1))).status).toBe(200);
  });

  it('router-truststore: nginx cannot verify the MPs\' certificate (unable to get local issuer certificate), 502; the CA from mp_ca_cert fixes it', async () => {
    const r1 = router('router-1');
    const { error } = routerLogFiles(t, r1);
    const mark = sizeOf(error);
    const [fault] = await labBreakMany(dir, [{ scenario: 'router-truststore', hosts: ['router-1'] }]);
    expect(fault).toMatchObject({ scenario: 'router-truststore', hosts: ['router-1'] });
    expect((await get(routerUrl(r1))).status).toBe(502);
    expect((await get(routerUrl(router('router-2')))).status).toBe(200); // only router-1's region
    const log = logSince(error, mark);
    const tlsPorts = [mp('mp-1').mpTlsPort, mp('mp-2').mpTlsPort];
    expect(
      tlsPorts.some((port) =>
        nginxLine('error', String.raw`upstream SSL certificate verify error: \(20:unable to get local issuer certificate\) while SSL handshaking to upstream`, `https://127.0.0.1:${port}`).test(log),
      ),
    ).toBe(true);
    // The MPs themselves are right: TLS on the secure port with the lab CA's certificate.
    const props = readFileSync(apigeePaths(mp('mp-1').apigeeRoot).mpProperties, 'utf8');
    expect(props).toContain(`conf/message-processor-communication.properties+local.http.port=${mp('mp-1').mpTlsPort}\n`);
    const inv = loadInventory(lab.inventory).hosts.get('router-1')!.vars;
    const truststore = String(inv.router_truststore);
    const caCert = readFileSync(String(inv.mp_ca_cert), 'utf8');
    expect(readFileSync(truststore, 'utf8')).not.toContain(caCert.trim());
    // The fix a runbook applies: the CA into the truststore, a Router restart.
    const svc = apigeePaths(r1.apigeeRoot).apigeeService;
    const fix = await ssh('router-1', `sudo -n sh -c 'cat ${String(inv.mp_ca_cert)} >> ${truststore} && ${svc} edge-router restart && ${svc} edge-router wait_for_ready'`);
    expect(fix.code, fix.out).toBe(0);
    expect(await waitFor(async () => (await get(routerUrl(r1))).status === 200, 15_000, 500)).toBe(true);
    await labHeal(dir);
    expect(readFileSync(truststore, 'utf8')).toContain(caCert.trim());
  });

  it('router-down: the Router refuses connections and apigee-service says Not running; the other region answers', async () => {
    await labBreak(dir, 'router-down', ['dc_2']);
    expect(await httpRequest(routerUrl(router('router-2')), { timeoutMs: 3000 })).toBeNull();
    expect((await get(routerUrl(router('router-1')))).status).toBe(200);
    const svc = apigeePaths(router('router-2').apigeeRoot).apigeeService;
    expect(await ssh('router-2', `sudo -n ${svc} edge-router status`)).toEqual({ code: 1, out: 'apigee-service: edge-router: Not running\n' });
    await expect(labBreak(dir, 'router-down', ['mp-1'])).rejects.toThrow('router-down acts on Routers; mp-1 is a Message Processor');
    await labHeal(dir);
    expect((await get(routerUrl(router('router-2')))).status).toBe(200);
  });

  it('mp-slow: the management API answers, API requests outlast the Router read timeout: upstream timed out, 504', async () => {
    const r1 = router('router-1');
    const { error } = routerLogFiles(t, r1);
    const mark = sizeOf(error);
    await labBreak(dir, 'mp-slow', ['dc_1']);
    const started = Date.now();
    expect((await get(routerUrl(r1))).status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
    expect(logSince(error, mark)).toMatch(/\[error\] .*upstream timed out \(110: Connection timed out\) while reading response header from upstream, .*upstream: "http:\/\/127\.0\.0\.1:\d+\/v1\/hello"/);
    const up = await httpRequest(`http://127.0.0.1:${mp('mp-1').mpMgmtPort}/v1/servers/self/up`, { timeoutMs: 1000 });
    expect(up?.body).toBe('true');
    const logs = ['mp-1', 'mp-2'].map((n) => readFileSync(apigeePaths(mp(n).apigeeRoot).mpSystemLog, 'utf8')).join('');
    expect(logs).toMatch(/WARN MESSAGING\.FLOW - FlowExecution\.execute\(\) : Slow request GET \/v1\/hello: policy execution is taking \d+ ms/);
    await labHeal(dir);
    expect((await get(routerUrl(r1))).status).toBe(200);
  });

  it('mp-disk-full: the dump directory has room for a thread dump but not for the heap; heal unmounts it', async () => {
    const m = mp('mp-4');
    const dumps = apigeePaths(m.apigeeRoot).mpDumpDir;
    await labBreak(dir, 'mp-disk-full', ['mp-4']);
    const df = await ssh('mp-4', `df -Pk ${dumps} | awk 'NR==2 {print $4}'`);
    expect(Number(df.out.trim())).toBeLessThanOrEqual(2048);
    const pidFile = apigeePaths(m.apigeeRoot).mpPidFile;
    const dump = await ssh('mp-4', `sudo -n -u apigee sh -c 'jstack -l $(cat ${pidFile}) > ${dumps}/t.txt && wc -c < ${dumps}/t.txt'`);
    expect(dump.code, dump.out).toBe(0);
    expect(Number(dump.out.trim())).toBeGreaterThan(1000);
    const heap = await ssh('mp-4', `sudo -n -u apigee sh -c 'head -c 4000000 /dev/zero > ${dumps}/big'`);
    expect(heap.code).not.toBe(0);
    expect(heap.out).toContain('No space left on device');
    await labHeal(dir);
    expect((await ssh('mp-4', `df -Pk ${dumps} | awk 'NR==2 {print $4}'`)).out.trim()).not.toBe(df.out.trim());
  });

  it('several faults at once, each on its own hosts: mps-down on dc_1 with backend-error everywhere', async () => {
    const applied = await labBreakMany(dir, [
      { scenario: 'mps-down', hosts: ['mp-1', 'mp-2'] },
      { scenario: 'backend-error' },
    ]);
    expect(applied.map((f) => [f.scenario, f.hosts])).toEqual([
      ['backend-error', ['mp-1', 'mp-2', 'mp-3', 'mp-4']],
      ['mps-down', ['mp-1', 'mp-2']],
    ]);
    const r1 = await get(routerUrl(router('router-1')));
    expect(r1.status).toBe(502);
    expect(r1.body).toContain('An error occurred.'); // the Router's own page: no MP answered
    const r2 = await get(routerUrl(router('router-2')));
    expect(r2.status).toBe(502);
    expect(r2.body).toContain('<center><h1>502 Bad Gateway</h1></center>'); // the backend's page through the MPs
    expect((await labStatus(dir)).faults.map((f) => f.scenario)).toEqual(['backend-error', 'mps-down']);
    await expect(labBreakMany(dir, [{ scenario: 'router-mp-tls' }, { scenario: 'router-truststore' }])).rejects.toThrow(
      'router-mp-tls and router-truststore each set the MPs\' TLS configuration',
    );
    await labHeal(dir);
    expect((await get(routerUrl(router('router-1')))).status).toBe(200);
  });

  it('down stops every process by pid and leaves no port listening', async () => {
    const state = readState(dir);
    const pids = [
      ...Object.values(state.pids.sshd),
      ...t.hosts.map((h) => readPidFile(h.role === 'router' ? apigeePaths(h.apigeeRoot).routerPidFile : apigeePaths(h.apigeeRoot).mpPidFile)!),
      readPidFile(join(dir, 'backend', 'backend.pid'))!,
    ];
    const workers = routers(t).flatMap((r) => childPids(readPidFile(apigeePaths(r.apigeeRoot).routerPidFile)!));
    expect(workers.length).toBeGreaterThan(0);
    const all = [...pids, ...workers];
    expect(all.every(isAlive)).toBe(true);
    await labDown(dir);
    expect(all.filter(isAlive)).toEqual([]);
    const { stdout } = await exec('ss', ['-ltnH']);
    const listening = stdout.split('\n').map((l) => Number(l.trim().split(/\s+/)[3]?.split(':').pop()));
    expect(allPorts(t).filter((p) => listening.includes(p))).toEqual([]);
    if (state.sudoersFile) expect(existsSync(state.sudoersFile)).toBe(false);
    expect((await labStatus(dir)).running).toBe(false);
  });
});
