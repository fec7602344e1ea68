import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalTransport, SshTransport, TransportPool } from '../../src/transport/index.js';
import { startSshServer, type TestSshServer } from '../helpers/ssh-server.js';
import { makeHost, waitFor } from './support.js';

let srv: TestSshServer;
const work = mkdtempSync(join(tmpdir(), 'remedy-pool-'));
beforeAll(async () => {
  srv = await startSshServer();
});
afterAll(async () => {
  await srv.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('TransportPool', () => {
  it('gives local hosts a LocalTransport and ssh hosts one SshTransport each, without connecting', async () => {
    const pool = new TransportPool({ knownHostsFiles: [srv.knownHostsFile], agent: false, sshConfigFile: false });
    const local = pool.get(makeHost('localhost', { type: 'local', address: 'localhost', port: 22 }));
    const before = srv.stats.connections;
    const a = pool.get(makeHost('a', srv.connectionFor()));
    expect(local).toBeInstanceOf(LocalTransport);
    expect(a).toBeInstanceOf(SshTransport);
    expect(pool.get(makeHost('a', srv.connectionFor()))).toBe(a);
    expect(a.host).toBe('a');
    expect((await local.exec('echo local')).stdout).toBe('local\n');
    expect(srv.stats.connections).toBe(before); // lazy
    await pool.closeAll();
  });

  it('closes every connection on closeAll', async () => {
    const pool = new TransportPool({ knownHostsFiles: [srv.knownHostsFile], agent: false, sshConfigFile: false });
    const before = srv.stats.connections;
    await Promise.all(['a', 'b', 'c'].map((n) => pool.get(makeHost(n, srv.connectionFor())).connect()));
    expect(srv.stats.connections - before).toBe(3);
    expect(srv.stats.openConnections).toBe(3);
    await pool.closeAll();
    expect(await waitFor(() => srv.stats.openConnections === 0, 2000)).toBe(true);
    // The pool forgets closed transports: a later get() makes a fresh one.
    const again = pool.get(makeHost('a', srv.connectionFor()));
    expect((await again.exec('echo x')).stdout).toBe('x\n');
    await pool.closeAll();
    await expect(again.exec('true')).rejects.toThrow(/closed/);
  });

  it('fills unset connection fields from ssh_config (HostName, Port, IdentityFile, User)', async () => {
    const cfg = join(work, 'ssh_config');
    writeFileSync(cfg, `Host app-*\n  HostName 127.0.0.1\n  Port ${srv.port}\n  User ${srv.user}\n  IdentityFile ${srv.clientKeyFile}\n`);
    const pool = new TransportPool({ knownHostsFiles: [srv.knownHostsFile], agent: false, sshConfigFile: cfg });
    const host = makeHost('app-1', { type: 'ssh', address: 'app-1', port: 22 });
    expect(pool.route(host).target).toMatchObject({ address: '127.0.0.1', port: srv.port, user: srv.user, identityFiles: [srv.clientKeyFile] });
    expect((await pool.get(host).exec('echo via-config')).stdout).toBe('via-config\n');
    await pool.closeAll();
  });
});
