// Pure helpers for Apigee `.properties` override files: read values the way the components do
// (later lines win, both key styles), set a key the way Ansible's lineinfile does, and Jetty's
// OBF: password obfuscation that Apigee's TLS settings use.

export type Properties = Map<string, string>;

/** key=value lines; `#` comments and blank lines ignored; a repeated key keeps its last value. */
export function parseProperties(text: string): Properties {
  const props: Properties = new Map();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    props.delete(key); // re-insert so iteration order is "last written"
    props.set(key, line.slice(eq + 1).trim());
  }
  return props;
}

/** The two documented spellings of one override: conf_<file>_<prop> and conf/<file>.properties+<prop>. */
export function confKeys(file: string, prop: string): [string, string] {
  return [`conf_${file}_${prop}`, `conf/${file}.properties+${prop}`];
}

/** Value of a conf override in either key style; the one written last wins. */
export function confValue(props: Properties, file: string, prop: string): string | undefined {
  const keys = confKeys(file, prop);
  let found: string | undefined;
  for (const [k, v] of props) if (keys.includes(k)) found = v;
  return found;
}

/**
 * Sets KEY=VALUE like Ansible's lineinfile with `regexp: "^KEY="`: the last matching line is
 * replaced, otherwise the line is appended. Other lines (comments included) are kept.
 */
export function setProperty(text: string, key: string, value: string): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  let last = -1;
  lines.forEach((l, i) => {
    if (l.trimStart().startsWith(`${key}=`)) last = i;
  });
  if (last >= 0) lines[last] = `${key}=${value}`;
  else lines.push(`${key}=${value}`);
  return `${lines.join('\n')}\n`;
}

/** Jetty's Password.obfuscate: what `OBF:` values in Apigee properties are. Not encryption. */
export function obfuscate(plain: string): string {
  const b = Buffer.from(plain, 'utf8');
  let out = 'OBF:';
  for (let i = 0; i < b.length; i++) {
    const b1 = toSigned(b[i] ?? 0);
    const b2 = toSigned(b[b.length - (i + 1)] ?? 0);
    if (b1 < 0 || b2 < 0) {
      const i0 = (0xff & b1) * 256 + (0xff & b2);
      const x = i0.toString(36).toLowerCase();
      out += 'U0000'.slice(0, 5 - x.length) + x;
    } else {
      const i1 = 127 + b1 + b2;
      const i2 = 127 + b1 - b2;
      const i0 = i1 * 256 + i2;
      const x = i0.toString(36).toLowerCase();
      out += '000'.slice(0, 4 - x.length) + x;
    }
  }
  return out;
}

/** Jetty's Password.deobfuscate; values without the OBF: prefix pass through. */
export function deobfuscate(value: string): string {
  if (!value.startsWith('OBF:')) return value;
  const s = value.slice(4);
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i += 4) {
    if (s[i] === 'U') {
      i++;
      const i0 = parseInt(s.slice(i, i + 4), 36);
      bytes.push((i0 >> 8) & 0xff);
    } else {
      const i0 = parseInt(s.slice(i, i + 4), 36);
      const i1 = Math.trunc(i0 / 256);
      const i2 = i0 % 256;
      bytes.push(Math.trunc((i1 + i2 - 254) / 2) & 0xff);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function toSigned(byte: number): number {
  return byte > 127 ? byte - 256 : byte;
}
