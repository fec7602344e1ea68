// The lab's JVM programs (lab/java/*.java) compiled once per source version and cached, plus a
// keytool-made keystore for Router→MP TLS; both are copied into each lab directory so the
// service user can read them whatever the cache's permissions.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { labAsset } from './assets.js';
import { runOk } from './exec.js';
import { KEYSTORE_ALIAS, KEYSTORE_PASSWORD } from './render.js';

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
  hash.update(`keystore:${KEYSTORE_ALIAS}:${KEYSTORE_PASSWORD}:v1`);
  const dir = join(cacheRoot(), hash.digest('hex').slice(0, 16));
  if (existsSync(join(dir, 'ok'))) return dir;

  // Build beside the final place and rename, so concurrent labs never see a half-built cache.
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'classes'), { recursive: true });
  await Promise.all([
    runOk('javac', ['-nowarn', '-encoding', 'UTF-8', '-d', join(tmp, 'classes'), ...sources], { what: 'compiling the lab JVMs (javac)' }),
    runOk(
      'keytool',
      ['-genkeypair', '-alias', KEYSTORE_ALIAS, '-keyalg', 'EC', '-groupname', 'secp256r1', '-dname', 'CN=remedy-lab-mp', '-validity', '3650',
        '-keystore', join(tmp, 'keystore.jks'), '-storetype', 'jks', '-storepass', KEYSTORE_PASSWORD, '-keypass', KEYSTORE_PASSWORD],
      { what: 'creating the MP keystore (keytool)' },
    ),
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

export function installJavaArtifacts(cacheDir: string, classesDir: string, keystore: string): void {
  cpSync(join(cacheDir, 'classes'), classesDir, { recursive: true });
  cpSync(join(cacheDir, 'keystore.jks'), keystore);
}
