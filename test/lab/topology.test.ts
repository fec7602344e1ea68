import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { resolveMpTargets, routersFor } from '../../src/lab/targets.js';
import { allPorts, apigeePaths, buildTopology, defaultBasePort, mps, portCount, routerLogFiles, routers } from '../../src/lab/topology.js';

const shape = { regions: 2, mpsPerRegion: 2, org: 'myorg', env: 'prod' };
const t = buildTopology('/lab', shape, 21000);

describe('buildTopology', () => {
  it('builds the default topology: one Router and two MPs per region, MPs numbered across regions', () => {
    expect(t.regions).toEqual(['dc_1', 'dc_2']);
    expect(t.hosts.map((h) => `${h.name}@${h.region}`)).toEqual(['router-1@dc_1', 'mp-1@dc_1', 'mp-2@dc_1', 'router-2@dc_2', 'mp-3@dc_2', 'mp-4@dc_2']);
  });

  it('gives every listener its own port, contiguously from the base, as many as portCount says', () => {
    const ports = allPorts(t);
    expect(new Set(ports).size).toBe(ports.length);
    expect(ports.length).toBe(portCount(shape));
    expect(ports[0]).toBe(21000);
    expect(ports[ports.length - 1]).toBe(21000 + portCount(shape) - 1);
  });

  it('lays each host out like /opt/apigee under its own root', () => {
    const mp1 = mps(t)[0]!;
    expect(mp1.apigeeRoot).toBe('/lab/hosts/mp-1/opt/apigee');
    const p = apigeePaths(mp1.apigeeRoot);
    expect(p.apigeeService).toBe('/lab/hosts/mp-1/opt/apigee/apigee-service/bin/apigee-service');
    expect(p.mpProperties).toBe('/lab/hosts/mp-1/opt/apigee/customer/application/message-processor.properties');
    expect(p.mpPidFile).toBe('/lab/hosts/mp-1/opt/apigee/var/run/edge-message-processor/edge-message-processor.pid');
    expect(p.mpSystemLog).toBe('/lab/hosts/mp-1/opt/apigee/var/log/edge-message-processor/logs/system.log');
    const r1 = routers(t)[0]!;
    expect(r1.nginxConfDir).toBe('/lab/hosts/router-1/opt/nginx/conf.d');
    expect(routerLogFiles(t, r1).access).toBe(`/lab/hosts/router-1/opt/apigee/var/log/edge-router/nginx/myorg~prod.${r1.routerPort}_access_log`);
  });

  it('scales with --regions and --mps-per-region', () => {
    const big = buildTopology('/lab', { ...shape, regions: 3, mpsPerRegion: 4 }, 20000);
    expect(routers(big).map((r) => r.name)).toEqual(['router-1', 'router-2', 'router-3']);
    expect(mps(big).filter((m) => m.region === 'dc_3').map((m) => m.name)).toEqual(['mp-9', 'mp-10', 'mp-11', 'mp-12']);
    expect(new Set(allPorts(big)).size).toBe(portCount({ regions: 3, mpsPerRegion: 4 }));
  });

  it('refuses shapes nginx cannot fail over in, and bad names', () => {
    expect(() => buildTopology('/lab', { ...shape, mpsPerRegion: 1 }, 20000)).toThrow(UsageError);
    expect(() => buildTopology('/lab', { ...shape, regions: 0 }, 20000)).toThrow(/--regions/);
    expect(() => buildTopology('/lab', { ...shape, org: 'My Org' }, 20000)).toThrow(/--org/);
  });

  it('derives a stable default base port per directory, below the ephemeral range', () => {
    expect(defaultBasePort('/a')).toBe(defaultBasePort('/a'));
    for (const d of ['/a', '/b', '/tmp/x', '/work/main/.remedy-lab']) {
      expect(defaultBasePort(d)).toBeGreaterThanOrEqual(20000);
      expect(defaultBasePort(d) + 100).toBeLessThan(32768);
    }
  });
});

describe('resolveMpTargets', () => {
  const names = (hosts?: string[]) => resolveMpTargets(t, 'mps-down', hosts).map((m) => m.name);
  it('defaults to every MP', () => {
    expect(names()).toEqual(['mp-1', 'mp-2', 'mp-3', 'mp-4']);
    expect(names([' ', ''])).toEqual(['mp-1', 'mp-2', 'mp-3', 'mp-4']);
  });
  it('accepts MP names, regions and groups, in topology order without duplicates', () => {
    expect(names(['mp-3', 'mp-1'])).toEqual(['mp-1', 'mp-3']);
    expect(names(['dc_2'])).toEqual(['mp-3', 'mp-4']);
    expect(names(['dc_1_message_processors', 'mp-1'])).toEqual(['mp-1', 'mp-2']);
    expect(names(['message_processors'])).toEqual(['mp-1', 'mp-2', 'mp-3', 'mp-4']);
  });
  it('refuses a Router and unknown names with the choices', () => {
    expect(() => names(['router-1'])).toThrow(/router-1 is a Router \(use its region dc_1/);
    expect(() => names(['mp-9'])).toThrow(/unknown host or group "mp-9"; hosts: mp-1, mp-2, mp-3, mp-4/);
  });
  it('finds the Routers in front of some MPs', () => {
    expect(routersFor(t, resolveMpTargets(t, 'router-mp-tls', ['mp-4'])).map((r) => r.name)).toEqual(['router-2']);
  });
});
