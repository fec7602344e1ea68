// The lab's JVM programs (lab/java/*.java) compiled once per source version and cached, plus the
// lab's own small PKI for Router→MP TLS (openssl + keytool): a Message Processor CA, the MPs'
// certificate it signs (in a JKS keystore, leaf only, as an MP presents it), and an unrelated
// "corporate" CA that a Router truststore can hold instead. Everything is copied into each lab
// directory so the service user can read it whatever the cache's permissions.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { labAsset } from './assets.js';
import { runOk } from './exec.js';
import { KEYSTORE_ALIAS, KEYSTORE_PASSWORD, MP_TLS_NAME } from './render.js';

/** What the cache holds besides the classes, by file name. */
export const CERT_FILES = { keystore: 'keystore.jks', mpCa: 'mp-ca.pem', otherCa: 'other-ca.pem' } as const;

const JAVA_DIR = 'java';

function sourceFiles(): string[] {
  return readdirSync(labAsset(JAVA_DIR))
    .filter((f) => f.endsWith('.java'))
    .sort()
    .map((f) => labAsset(`${JAVA_DIR}/${f}`));
}

function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'remedy', 'lab-java');
}

/** Compiles (or reuses) the classes and the keystore; returns the cache directory holding both. */
export async function buildJavaArtifacts(): Promise<string> {
  const sources = sourceFiles();
  const hash = createHash('sha256');
  for (const f of sources) hash.update(f.slice(f.lastIndexOf('/'))).update(readFileSync(f));
  hash.update(`keystore:${KEYSTORE_ALIAS}:${KEYSTORE_PASSWORD}:${MP_TLS_NAME}:ca-v3`);
  const dir = join(cacheRoot(), hash.digest('hex').slice(0, 16));
  if (existsSync(join(dir, 'ok'))) return dir;

  // Build beside the final place and rename, so concurrent labs never see a half-built cache.
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'classes'), { recursive: true });
  await Promise.all([
    runOk('javac', ['-nowarn', '-encoding', 'UTF-8', '-d', join(tmp, 'classes'), ...sources], { what: 'compiling the lab JVMs (javac)' }),
    buildPki(tmp),
  ]);
  mkdirSync(join(tmp, 'ok'));
  try {
    renameSync(tmp, dir);
  } catch {
    if (existsSync(join(dir, 'ok'))) {
      rmSync(tmp, { recursive: true, force: true }); // another lab finished first
    } else {
      rmSync(dir, { recursive: true, force: true }); // a build that died half-way
      renameSync(tmp, dir);
    }
  }
  return dir;
}

/** Self-signed CA certificate and key (EC P-256), ten years. */
function caArgs(dir: string, name: string, cn: string): string[] {
  return ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650',
    '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`), '-subj', `/O=remedy lab/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
}

/**
 * A two-level PKI as production CAs have it: the MP root CA signs an issuing CA, which signs the
 * MPs' server certificate (name MP_TLS_NAME, the name Routers verify). The keystore holds the leaf
 * and the issuing CA, which is what an MP presents; a Router must hold the root in its truststore.
 * Without it nginx reports "unable to get local issuer certificate" — the router-truststore fault.
 */
async function buildPki(dir: string): Promise<void> {
  const pki = join(dir, 'pki');
  mkdirSync(pki);
  const ssl = (args: string[], what: string) => runOk('openssl', args, { what });
  const key = (name: string) => ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(pki, `${name}.key`)];
  const sign = async (name: string, issuer: string, ext: string, what: string) => {
    writeFileSync(join(pki, `${name}.ext`), ext);
    await ssl(['x509', '-req', '-in', join(pki, `${name}.csr`), '-CA', join(pki, `${issuer}.pem`), '-CAkey', join(pki, `${issuer}.key`), '-CAcreateserial',
      '-days', '3650', '-extfile', join(pki, `${name}.ext`), '-out', join(pki, `${name}.pem`)], what);
  };
  await ssl(caArgs(pki, 'mp-ca', 'remedy lab Message Processor Root CA'), 'creating the lab MP root CA (openssl)');
  await ssl(caArgs(pki, 'other-ca', 'remedy lab Corporate Root CA'), 'creating the lab corporate CA (openssl)');
  await ssl(['req', '-new', ...key('issuing'), '-out', join(pki, 'issuing.csr'), '-subj', '/O=remedy lab/CN=remedy lab Message Processor Issuing CA'], 'creating the issuing CA key (openssl)');
  await sign('issuing', 'mp-ca', 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n', 'signing the issuing CA (openssl)');
  await ssl(['req', '-new', ...key('mp'), '-out', join(pki, 'mp.csr'), '-subj', `/O=remedy lab/CN=${MP_TLS_NAME}`], 'creating the MP key (openssl)');
  await sign('mp', 'issuing', `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${MP_TLS_NAME},IP:127.0.0.1\n`,
    'signing the MP certificate (openssl)');
  await ssl(['pkcs12', '-export', '-in', join(pki, 'mp.pem'), '-inkey', join(pki, 'mp.key'), '-certfile', join(pki, 'issuing.pem'), '-name', KEYSTORE_ALIAS,
    '-passout', `pass:${KEYSTORE_PASSWORD}`, '-out', join(pki, 'mp.p12')], 'packing the MP key and certificate chain (openssl pkcs12)');
  await runOk('keytool', ['-importkeystore', '-noprompt', '-srckeystore', join(pki, 'mp.p12'), '-srcstoretype', 'PKCS12', '-srcstorepass', KEYSTORE_PASSWORD,
    '-srcalias', KEYSTORE_ALIAS, '-destalias', KEYSTORE_ALIAS, '-destkeystore', join(dir, CERT_FILES.keystore), '-deststoretype', 'jks',
    '-deststorepass', KEYSTORE_PASSWORD, '-destkeypass', KEYSTORE_PASSWORD], { what: 'creating the MP keystore (keytool)' });
  cpSync(join(pki, 'mp-ca.pem'), join(dir, CERT_FILES.mpCa));
  cpSync(join(pki, 'other-ca.pem'), join(dir, CERT_FILES.otherCa));
  rmSync(pki, { recursive: true, force: true }); // the CAs' private keys are not kept
}

/** Copies the classes and the certificate files into the lab's java directory. */
export function installJavaArtifacts(cacheDir: string, classesDir: string, javaDir: string): void {
  cpSync(join(cacheDir, 'classes'), classesDir, { recursive: true });
  for (const f of Object.values(CERT_FILES)) cpSync(join(cacheDir, f), join(javaDir, f));
}
