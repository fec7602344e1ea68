// The lab host's scripts and the MP's properties reading, run for real on files (no servers).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { userInfo, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostWriter, writeHost, writeShared } from '../../src/lab/hosts.js';
import { buildJavaArtifacts } from '../../src/lab/java.js';
import { withMpTls } from '../../src/lab/render.js';
import { apigeePaths, buildTopology, labPaths, mps, routers } from '../../src/lab/topology.js';
import type { LabTopology } from '../../src/lab/types.js';

let dir: string;
let t: LabTopology;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'remedy-lab-unit-'));
  t = buildTopology(dir, { regions: 2, mpsPerRegion: 2, org: 'myorg', env: 'prod' }, 21000);
  const me = userInfo().username;
  const w = new HostWriter(null);
  const lp = labPaths(dir);
  writeShared(w, t);
  writeFileSync(join(dir, 'keystore.jks'), 'not a real keystore');
  writeFileSync(join(dir, 'mp-ca.pem'), '-----BEGIN CERTIFICATE-----\nmp-ca\n-----END CERTIFICATE-----\n');
  writeFileSync(join(dir, 'other-ca.pem'), '-----BEGIN CERTIFICATE-----\nother-ca\n-----END CERTIFICATE-----\n');
  const rt = { users: { login: me, service: me, become: 'none' as const }, javaBin: '/bin/false', classes: lp.classes, registry: lp.registry };
  const certs = { keystore: join(dir, 'keystore.jks'), mpCa: join(dir, 'mp-ca.pem'), otherCa: join(dir, 'other-ca.pem') };
  for (const h of t.hosts) writeHost(w, t, h, rt, certs);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function service(apigeeRoot: string, ...args: string[]) {
  const r = spawnSync(apigeePaths(apigeeRoot).apigeeService, args, { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function register(region: string, name: string, port: number, protocol: string) {
  mkdirSync(join(labPaths(dir).registry, region), { recursive: true });
  writeFileSync(join(labPaths(dir).registry, region, name), `127.0.0.1 ${port} ${protocol}\n`);
}

describe('generate-router-conf', () => {
  const generate = (routerIndex: number) => {
    const r = routers(t)[routerIndex]!;
    for (const f of readdirSync(r.nginxConfDir)) rmSync(join(r.nginxConfDir, f));
    execFileSync(join(r.apigeeRoot, 'edge-router', 'bin', 'generate-router-conf'), { encoding: 'utf8' });
    return readFileSync(join(r.nginxConfDir, 'myorg_prod_default.conf'), 'utf8');
  };

  it('writes one upstream with every MP registered in the Router region, max_fails, and the Apigee log names', () => {
    register('dc_1', 'mp-1', 30001, 'http');
    register('dc_1', 'mp-2', 30002, 'http');
    register('dc_2', 'mp-3', 30003, 'http');
    const conf = generate(0);
    const r1 = routers(t)[0]!;
    expect(conf).toMatch(/upstream mps_dc_1 \{\n {4}server 127\.0\.0\.1:30001 max_fails=1 fail_timeout=5s;[^\n]*\n {4}server 127\.0\.0\.1:30002 max_fails=1/);
    expect(conf).not.toContain('30003');
    expect(conf).toContain('proxy_pass http://mps_dc_1;');
    expect(conf).toContain(`listen 127.0.0.1:${r1.routerPort} default_server;`);
    expect(conf).toContain(`access_log ${r1.apigeeRoot}/var/log/edge-router/nginx/myorg~prod.${r1.routerPort}_access_log apigee;`);
    expect(conf).toContain(`error_log ${r1.apigeeRoot}/var/log/edge-router/nginx/myorg~prod.${r1.routerPort}_error_log warn;`);
  });

  it('takes the read timeout from router.properties (customer file over defaults, either key style)', () => {
    expect(generate(0)).toContain('proxy_read_timeout 3s;');
    const r1 = routers(t)[0]!;
    const props = apigeePaths(r1.apigeeRoot).routerProperties;
    const original = readFileSync(props, 'utf8');
    writeFileSync(props, `${original}conf/load_balancing.properties+load.balancing.driver.proxy.read.timeout=45s\n`);
    try {
      const conf = generate(0);
      expect(conf).toContain('proxy_read_timeout 45s;');
      expect(conf).toContain('proxy_next_upstream_timeout 45s;');
    } finally {
      writeFileSync(props, original);
    }
  });

  it('speaks https to the region when an MP registered with TLS', () => {
    register('dc_2', 'mp-3', 30003, 'https');
    register('dc_2', 'mp-4', 30004, 'http');
    const conf = generate(1);
    expect(conf).toContain('proxy_pass https://mps_dc_2;');
    // and verifies the MPs' certificates against the Router's truststore, by the certificate's name
    const r2 = routers(t)[1]!;
    expect(conf).toContain('proxy_ssl_verify on;');
    expect(conf).toContain(`proxy_ssl_trusted_certificate ${apigeePaths(r2.apigeeRoot).routerTruststore};`);
    expect(conf).toContain('proxy_ssl_name message-processor.apigee.lab;');
    // a healthy truststore holds the corporate CA and the MPs' CA
    expect(readFileSync(apigeePaths(r2.apigeeRoot).routerTruststore, 'utf8')).toBe(
      '-----BEGIN CERTIFICATE-----\nother-ca\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nmp-ca\n-----END CERTIFICATE-----\n',
    );
  });

  it('plain http upstreams carry no TLS verification settings', () => {
    expect(generate(0)).not.toContain('proxy_ssl_verify');
  });
});

describe('apigee-service', () => {
  it('configure -search prints where a key is found, customer file first', () => {
    const r1 = routers(t)[0]!;
    const r = service(r1.apigeeRoot, 'edge-router', 'configure', '-search', 'conf_http_HTTPRequest.line.limit');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(`Found key conf_http_HTTPRequest.line.limit, with value, 4k, in ${r1.apigeeRoot}/edge-router/token/default.properties`);
    const timeout = service(r1.apigeeRoot, 'edge-router', 'configure', '-search', 'conf_load_balancing_load.balancing.driver.proxy.read.timeout');
    expect(timeout.out).toContain(`with value, 3s, in ${r1.apigeeRoot}/customer/application/router.properties`);
    expect(service(r1.apigeeRoot, 'edge-router', 'configure', '-search', 'no.such.key').code).toBe(1);
  });

  it('status exits non-zero when the component is not running, also with a stale pid file', () => {
    const mp = mps(t)[0]!;
    const r = service(mp.apigeeRoot, 'edge-message-processor', 'status');
    expect(r).toEqual({ code: 1, out: 'apigee-service: edge-message-processor: Not running\n' });
    writeFileSync(apigeePaths(mp.apigeeRoot).mpPidFile, `${process.pid}\n`); // alive, but not an MP
    expect(service(mp.apigeeRoot, 'edge-message-processor', 'status').code).toBe(1);
  });

  it('refuses components that are not installed on the host, and bad usage', () => {
    const mp = mps(t)[0]!;
    expect(service(mp.apigeeRoot, 'edge-router', 'status')).toMatchObject({ code: 1, out: expect.stringContaining('not installed on this host (mp-1)') });
    expect(service(mp.apigeeRoot, 'edge-management-server', 'start').code).toBe(1);
    expect(service(mp.apigeeRoot, 'edge-message-processor').code).toBe(2);
  });

  it('apigee-monit records start and stop', () => {
    const mp = mps(t)[1]!;
    expect(service(mp.apigeeRoot, 'apigee-monit', 'status').code).toBe(0);
    expect(service(mp.apigeeRoot, 'apigee-monit', 'stop').code).toBe(0);
    expect(service(mp.apigeeRoot, 'apigee-monit', 'status')).toEqual({ code: 1, out: 'apigee-service: apigee-monit: Not running\n' });
    expect(service(mp.apigeeRoot, 'apigee-monit', 'start').code).toBe(0);
  });
});

describe('the MP reads message-processor.properties like Apigee', () => {
  const printConfig = async (customer: string) => {
    const cache = await buildJavaArtifacts();
    const mp = mps(t)[0]!;
    const p = apigeePaths(mp.apigeeRoot);
    writeFileSync(p.mpProperties, customer);
    const out = execFileSync('java', ['-cp', join(cache, 'classes'), 'LabMicroKernel', '--print-config', p.mpTokenDefaults, p.mpProperties, String(mp.mpPort)], {
      encoding: 'utf8',
    });
    return JSON.parse(out) as { ssl: boolean; port: number; tls: boolean; keystorePassword: string; keyAlias: string };
  };

  it('defaults to plain text on the 8998-role port', async () => {
    expect(await printConfig('')).toMatchObject({ ssl: false, port: mps(t)[0]!.mpPort, tls: false });
  }, 30_000);

  it('uses TLS on the 8443-role port from the documented settings (both key styles, OBF password)', async () => {
    const mp = mps(t)[0]!;
    expect(await printConfig(withMpTls('', mp, mp.mpTlsPort))).toMatchObject({ ssl: true, port: mp.mpTlsPort, tls: true, keyAlias: 'apigee-devtest', keystorePassword: 'remedy-lab-keystore' });
  }, 30_000);

  it('stays plain text when ssl is on but the port is the plain one (the router-mp-tls fault)', async () => {
    const mp = mps(t)[0]!;
    expect(await printConfig(withMpTls('', mp, mp.mpPort))).toMatchObject({ ssl: true, port: mp.mpPort, tls: false });
    const c = await printConfig(`conf/message-processor-communication.properties+local.http.ssl=true\nconf_message-processor-communication_local.http.port=${mp.mpPort}\n`);
    expect(c).toMatchObject({ ssl: true, port: mp.mpPort, tls: false });
  }, 30_000);
});
