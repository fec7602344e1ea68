// Writes each lab host's filesystem: an install root laid out like /opt/apigee (apigee-service,
// customer properties, token defaults, var/log, var/run) and, on Routers, /opt/nginx.
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { labAsset, readAsset } from './assets.js';
import {
  renderHostEnv,
  renderMpCustomerProperties,
  renderMpTokenDefaults,
  renderNginxConf,
  renderRouterCustomerProperties,
  renderRouterTokenDefaults,
  type HostRuntime,
} from './render.js';
import { apigeePaths, labPaths, mpCaCertPath, sshdPaths } from './topology.js';
import type { LabHost, LabMpHost, LabRouterHost, LabTopology } from './types.js';

export interface Owner {
  uid: number;
  gid: number;
}

/** Writes files and directories, giving the service user what it owns on a real node. */
export class HostWriter {
  readonly service: Owner | null;
  constructor(service: Owner | null) {
    this.service = service;
  }

  dir(path: string, serviceOwned = false): void {
    mkdirSync(path, { recursive: true, mode: 0o755 });
    chmodSync(path, 0o755);
    if (serviceOwned) this.own(path);
  }

  file(path: string, content: string | Buffer, opts: { mode?: number; serviceOwned?: boolean } = {}): void {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    writeFileSync(path, content, { mode: opts.mode ?? 0o644 });
    chmodSync(path, opts.mode ?? 0o644);
    if (opts.serviceOwned) this.own(path);
  }

  copy(from: string, to: string, mode: number, serviceOwned = false): void {
    mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
    copyFileSync(from, to);
    chmodSync(to, mode);
    if (serviceOwned) this.own(to);
  }

  own(path: string): void {
    if (this.service) chownSync(path, this.service.uid, this.service.gid);
  }
}

/** The lab's certificate files (lab dir java/): the MPs' keystore and the two CAs (see java.ts). */
export interface LabCerts {
  keystore: string;
  mpCa: string;
  otherCa: string;
}

/** A healthy Router truststore: the corporate CA and the CA that signed the MPs' certificates. */
export function truststoreBundle(certs: LabCerts, withMpCa: boolean): string {
  const pem = (f: string) => readFileSync(f, 'utf8').trimEnd() + '\n';
  return pem(certs.otherCa) + (withMpCa ? pem(certs.mpCa) : '');
}

/** Every file a host has when freshly installed (what `heal` restores), the keystore copied to customer/application as the TLS docs place it. */
export function writeHost(w: HostWriter, t: LabTopology, host: LabHost, rt: HostRuntime, certs: LabCerts): void {
  const p = apigeePaths(host.apigeeRoot);
  const s = sshdPaths(host);
  w.dir(dirname(s.config));
  w.dir(dirname(s.pidFile));
  w.dir(dirname(s.log));
  w.copy(labAsset('host/apigee-service'), p.apigeeService, 0o755);
  w.copy(labAsset('host/apigee-all'), p.apigeeAll, 0o755);
  w.copy(labAsset('host/lab-functions.sh'), join(host.apigeeRoot, 'apigee-service', 'lib', 'lab-functions.sh'), 0o644);
  w.file(p.hostEnv, renderHostEnv(t, host, rt));
  w.dir(p.customerDir, true);
  w.dir(join(host.apigeeRoot, 'var', 'run', 'apigee-monit'), true);
  w.file(join(host.apigeeRoot, 'var', 'run', 'apigee-monit', 'state'), 'running\n', { serviceOwned: true });
  if (host.role === 'message-processor') writeMp(w, host, certs.keystore);
  else writeRouter(w, host, certs);
}

function writeMp(w: HostWriter, mp: LabMpHost, keystore: string): void {
  const p = apigeePaths(mp.apigeeRoot);
  w.copy(keystore, p.keystore, 0o600, true);
  w.dir(p.mpDumpDir, true);
  w.file(p.mpProperties, renderMpCustomerProperties(mp), { serviceOwned: true });
  w.file(p.mpTokenDefaults, renderMpTokenDefaults(mp));
  w.dir(join(mp.apigeeRoot, 'edge-message-processor', 'bin'));
  w.dir(dirname(p.mpLogDir), true);
  w.dir(p.mpLogDir, true);
  w.dir(dirname(p.mpPidFile), true);
}

function writeRouter(w: HostWriter, r: LabRouterHost, certs: LabCerts): void {
  const p = apigeePaths(r.apigeeRoot);
  w.file(p.routerTruststore, truststoreBundle(certs, true), { serviceOwned: true });
  w.copy(certs.mpCa, mpCaCertPath(r), 0o644);
  w.file(p.routerProperties, renderRouterCustomerProperties(r), { serviceOwned: true });
  w.file(p.routerTokenDefaults, renderRouterTokenDefaults(r));
  w.copy(labAsset('host/generate-router-conf'), join(r.apigeeRoot, 'edge-router', 'bin', 'generate-router-conf'), 0o755);
  w.dir(p.routerLogDir, true);
  w.dir(dirname(p.routerPidFile), true);
  w.file(join(r.nginxDir, 'conf', 'nginx.conf'), renderNginxConf(readAsset('templates/nginx.conf'), r));
  w.copy(labAsset('templates/apigee-router-error.html'), join(r.nginxDir, 'html', 'apigee-router-error.html'), 0o644);
  w.dir(r.nginxConfDir, true);
  w.dir(join(r.nginxDir, 'tmp'), true);
}

/** Lab-wide directories shared by hosts: the MP registry (ZooKeeper's role) and the backend's. */
export function writeShared(w: HostWriter, t: LabTopology): void {
  const lp = labPaths(t.dir);
  w.dir(lp.registry, true);
  for (const region of t.regions) w.dir(join(lp.registry, region), true);
  w.dir(lp.backendDir, true);
}
