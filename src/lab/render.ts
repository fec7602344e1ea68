// Pure renderers for every file the lab writes into a host or the lab directory (except the
// inventory, see inventory.ts). Templates are passed in as text, so these are testable without I/O.
import { shellQuote } from '../shell/quote.js';
import { obfuscate, setProperty } from './properties.js';
import { apigeePaths, apigeeRegion, sshdPaths } from './topology.js';
import type { LabHost, LabMpHost, LabRouterHost, LabTopology, LabUsers } from './types.js';

/** Replaces {{name}}; a placeholder without a value is a bug in the lab, so it throws. */
export function fillTemplate(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    return String(v);
  });
}

export function renderNginxConf(template: string, r: LabRouterHost): string {
  const p = apigeePaths(r.apigeeRoot);
  return fillTemplate(template, {
    host: r.name,
    region: apigeeRegion(r.region),
    uuid: r.uuid,
    pid_file: p.routerPidFile,
    log_dir: p.routerLogDir,
    nginx_dir: r.nginxDir,
    nginx_conf_dir: r.nginxConfDir,
    router_port: r.routerPort,
    router_mgmt_port: r.routerMgmtPort,
    router_health_port: r.routerHealthPort,
  });
}

export function renderSshdConfig(template: string, host: LabHost, authorizedKeys: string, loginUser: string): string {
  const p = sshdPaths(host);
  return fillTemplate(template, {
    host: host.name,
    port: host.sshPort,
    host_key: p.hostKey,
    pid_file: p.pidFile,
    authorized_keys: authorizedKeys,
    login_user: loginUser,
    tmp_dir: p.tmpDir,
  });
}

export interface HostRuntime {
  users: LabUsers;
  javaBin: string;
  classes: string;
  registry: string;
}

/** `<apigee_root>/etc/lab-host.env`: what the host's apigee-service script needs to know. */
export function renderHostEnv(t: LabTopology, host: LabHost, rt: HostRuntime): string {
  const vars: [string, string | number][] = [
    ['LAB_HOST', host.name],
    ['LAB_ROLE', host.role],
    ['LAB_REGION', host.region],
    ['LAB_REGION_NAME', apigeeRegion(host.region)],
    ['LAB_ORG', t.org],
    ['LAB_ENV', t.env],
    ['LAB_UUID', host.uuid],
    ['SERVICE_USER', rt.users.service],
    ['JAVA_BIN', rt.javaBin],
    ['LAB_CLASSES', rt.classes],
    ['LAB_REGISTRY', rt.registry],
    ['LAB_TARGET', `http://127.0.0.1:${t.backendPort}`],
    ['LAB_MIN_MEM', '16m'],
    ['LAB_MAX_MEM', '64m'],
    ['LAB_WAIT_FOR_READY_TIMEOUT', 30],
    ['NGINX_BIN', '/usr/sbin/nginx'],
    ['MP_TLS_NAME', MP_TLS_NAME],
  ];
  if (host.role === 'message-processor') {
    vars.push(['MP_PORT', host.mpPort], ['MP_TLS_PORT', host.mpTlsPort], ['MP_MGMT_PORT', host.mpMgmtPort]);
    vars.push(['NGINX_DIR', ''], ['NGINX_CONF_DIR', '']);
  } else {
    vars.push(['ROUTER_PORT', host.routerPort], ['ROUTER_MGMT_PORT', host.routerMgmtPort], ['ROUTER_HEALTH_PORT', host.routerHealthPort]);
    vars.push(['NGINX_DIR', host.nginxDir], ['NGINX_CONF_DIR', host.nginxConfDir]);
  }
  const header = `# Lab host ${host.name}: written by \`remedy lab up\`, read by apigee-service. Do not edit:\n# production settings belong in ${apigeePaths(host.apigeeRoot).customerDir}.\n`;
  return header + vars.map(([k, v]) => `${k}=${shellQuote(String(v))}`).join('\n') + '\n';
}

export const MP_COMMS = 'message-processor-communication';
export const KEYSTORE_ALIAS = 'apigee-devtest';
export const KEYSTORE_PASSWORD = 'remedy-lab-keystore';
/** The name in the MPs' TLS certificate, which Routers verify (nginx proxy_ssl_name). */
export const MP_TLS_NAME = 'message-processor.apigee.lab';

/** The customer override file as a freshly installed MP has it (what `heal` restores). */
export function renderMpCustomerProperties(host: LabMpHost): string {
  return [
    `# Customer overrides for edge-message-processor on ${host.name} (the role of`,
    '# /opt/apigee/customer/application/message-processor.properties). Both key styles work:',
    '#   conf_<file>_<property>=<value>   and   conf/<file>.properties+<property>=<value>',
    '# Owned by the service user; restart the MP to apply a change.',
    '',
  ].join('\n');
}

/** The component's defaults (Apigee's token defaults): the lab's ports and small heap live here. */
export function renderMpTokenDefaults(host: LabMpHost): string {
  return [
    `# Defaults of edge-message-processor on lab host ${host.name}. Override them in`,
    `# ${apigeePaths(host.apigeeRoot).mpProperties}, never here.`,
    'bin_setenv_min_mem=16m',
    'bin_setenv_max_mem=64m',
    `conf_${MP_COMMS}_local.http.port=${host.mpPort}`,
    `conf_${MP_COMMS}_local.http.ssl=false`,
    'conf_http_HTTPServer.streaming.buffer.limit=10m',
    '',
  ].join('\n');
}

export function renderRouterCustomerProperties(r: LabRouterHost): string {
  return [
    `# Customer overrides for edge-router on ${r.name} (the role of`,
    '# /opt/apigee/customer/application/router.properties). Restart the Router to apply.',
    "# Lab: the Router's read timeout is 3s instead of Apigee's 57s, so timeouts show quickly.",
    'conf_load_balancing_load.balancing.driver.proxy.read.timeout=3s',
    '',
  ].join('\n');
}

export function renderRouterTokenDefaults(r: LabRouterHost): string {
  return [
    `# Defaults of edge-router on lab host ${r.name}. Override them in`,
    `# ${apigeePaths(r.apigeeRoot).routerProperties}, never here.`,
    'conf_load_balancing_load.balancing.driver.proxy.read.timeout=57s',
    'conf_http_HTTPRequest.line.limit=4k',
    'conf_http_HTTPRequest.headers.limit=25k',
    '',
  ].join('\n');
}

/**
 * The TLS settings Apigee documents for Router→MP TLS, on `port`. With the plain-text port this
 * is the router-mp-tls fault; with the TLS port it is the correct configuration.
 */
export function withMpTls(text: string, host: LabMpHost, port: number): string {
  const settings: [string, string][] = [
    [`conf_${MP_COMMS}_local.http.ssl`, 'true'],
    [`conf/${MP_COMMS}.properties+local.http.port`, String(port)],
    [`conf/${MP_COMMS}.properties+local.http.ssl.keystore.type`, 'jks'],
    [`conf/${MP_COMMS}.properties+local.http.ssl.keystore.path`, apigeePaths(host.apigeeRoot).keystore],
    [`conf/${MP_COMMS}.properties+local.http.ssl.keyalias`, KEYSTORE_ALIAS],
    [`conf/${MP_COMMS}.properties+local.http.ssl.keystore.password`, obfuscate(KEYSTORE_PASSWORD)],
  ];
  return settings.reduce((acc, [k, v]) => setProperty(acc, k, v), text);
}

export function renderKnownHosts(entries: { port: number; publicKey: string }[]): string {
  // publicKey is "<type> <base64> [comment]"; known_hosts wants "<host> <type> <base64>".
  return entries.map((e) => `[127.0.0.1]:${e.port} ${e.publicKey.trim().split(/\s+/).slice(0, 2).join(' ')}`).join('\n') + '\n';
}

export function renderSshConfig(t: LabTopology, users: LabUsers, privateKey: string, knownHosts: string): string {
  const lines = [`# OpenSSH client config for the remedy lab in ${t.dir}: ssh -F ${t.dir}/ssh_config mp-1`, ''];
  for (const h of t.hosts) lines.push(`Host ${h.name}`, '  HostName 127.0.0.1', `  Port ${h.sshPort}`, '');
  lines.push(
    'Host *',
    `  User ${users.login}`,
    `  IdentityFile ${privateKey}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${knownHosts}`,
    '  StrictHostKeyChecking yes',
    '  LogLevel ERROR',
    '',
  );
  return lines.join('\n');
}

/**
 * Passwordless sudo for the lab's login user, only towards root and the service user (what
 * `become` needs: `sudo -n -u root|apigee -- sh -c …`).
 */
export function renderSudoers(t: LabTopology, users: LabUsers): string {
  return [
    `# Written by \`remedy lab up\` for the lab in ${t.dir}; removed by \`remedy lab down\`.`,
    `Defaults:${users.login} !requiretty, !lecture`,
    `${users.login} ALL=(root, ${users.service}) NOPASSWD: ALL`,
    '',
  ].join('\n');
}
