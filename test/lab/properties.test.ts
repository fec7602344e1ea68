import { describe, expect, it } from 'vitest';
import { confValue, deobfuscate, obfuscate, parseProperties, setProperty } from '../../src/lab/properties.js';

describe('parseProperties', () => {
  it('skips comments and blank lines, trims, and keeps the last value of a repeated key', () => {
    const p = parseProperties('# comment\n\n a = 1 \nb=x=y\na=2\r\nnot a property\n');
    expect([...p.entries()]).toEqual([
      ['b', 'x=y'],
      ['a', '2'],
    ]);
  });
});

describe('confValue', () => {
  const file = 'message-processor-communication';
  it('reads the conf_<file>_<prop> style', () => {
    expect(confValue(parseProperties(`conf_${file}_local.http.ssl=true\n`), file, 'local.http.ssl')).toBe('true');
  });
  it('reads the conf/<file>.properties+<prop> style', () => {
    expect(confValue(parseProperties(`conf/${file}.properties+local.http.port=8443\n`), file, 'local.http.port')).toBe('8443');
  });
  it('lets the line written last win when both styles are present', () => {
    const text = `conf_${file}_local.http.port=8998\nconf/${file}.properties+local.http.port=8443\n`;
    expect(confValue(parseProperties(text), file, 'local.http.port')).toBe('8443');
    const reversed = `conf/${file}.properties+local.http.port=8443\nconf_${file}_local.http.port=8998\n`;
    expect(confValue(parseProperties(reversed), file, 'local.http.port')).toBe('8998');
  });
  it('is undefined for an absent property', () => {
    expect(confValue(parseProperties('a=b\n'), file, 'local.http.ssl')).toBeUndefined();
  });
});

describe('setProperty (lineinfile semantics)', () => {
  it('replaces the last matching line and keeps comments', () => {
    expect(setProperty('# keep\na=1\nb=2\na=3\n', 'a', '9')).toBe('# keep\na=1\nb=2\na=9\n');
  });
  it('appends when the key is absent, also to an empty file', () => {
    expect(setProperty('b=2', 'a', '1')).toBe('b=2\na=1\n');
    expect(setProperty('', 'a', '1')).toBe('a=1\n');
  });
  it('does not treat a longer key with the same prefix as a match', () => {
    expect(setProperty('ab=1\n', 'a', '2')).toBe('ab=1\na=2\n');
  });
});

describe('Jetty OBF obfuscation', () => {
  it('matches Jetty for a known value', () => {
    expect(obfuscate('password')).toBe('OBF:1v2j1uum1xtv1zej1zer1xtn1uvk1v1v');
    expect(deobfuscate('OBF:1v2j1uum1xtv1zej1zer1xtn1uvk1v1v')).toBe('password');
  });
  it('round-trips ASCII and non-ASCII values, and passes plain values through', () => {
    for (const v of ['remedy-lab-keystore', 'a', 'pässwörd-€']) expect(deobfuscate(obfuscate(v))).toBe(v);
    expect(deobfuscate('plain')).toBe('plain');
  });
});
