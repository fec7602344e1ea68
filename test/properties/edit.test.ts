import { describe, expect, it } from 'vitest';
import { editProperties, parseProperties } from '../../src/properties/edit.js';

const MP = `# Router to MP communication
conf_message-processor-communication_local.http.ssl=true
conf/message-processor-communication.properties+local.http.port=8998

# heap
bin_setenv_max_mem=512m
`;

describe('editProperties', () => {
  it('sets a key in place and keeps comments, blank lines and order', () => {
    const r = editProperties(MP, { set: { 'conf/message-processor-communication.properties+local.http.port': '8443' }, unset: [] });
    expect(r.changed).toBe(true);
    expect(r.text).toBe(MP.replace('local.http.port=8998', 'local.http.port=8443'));
    expect(r.diff).toContain('-conf/message-processor-communication.properties+local.http.port=8998');
    expect(r.diff).toContain('+conf/message-processor-communication.properties+local.http.port=8443');
  });

  it('appends new keys at the end and removes unset keys', () => {
    const r = editProperties(MP, { set: { new_key: 'v' }, unset: ['bin_setenv_max_mem'] });
    expect(r.text).toBe(
      '# Router to MP communication\nconf_message-processor-communication_local.http.ssl=true\nconf/message-processor-communication.properties+local.http.port=8998\n\n# heap\nnew_key=v\n',
    );
  });

  it('reports no change when the value is already right', () => {
    const r = editProperties(MP, { set: { 'conf_message-processor-communication_local.http.ssl': 'true' }, unset: [] });
    expect(r.changed).toBe(false);
    expect(r.diff).toBe('');
    expect(r.text).toBe(MP);
  });

  it('handles separators, escapes and continuation lines', () => {
    const text = 'a : 1\nb\t2\nc=one \\\n  two\nd\\=x=3\n';
    expect(parseProperties(text).map((e) => [e.key, e.value])).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', 'one two'],
      ['d=x', '3'],
    ]);
    const r = editProperties(text, { set: { c: 'three' }, unset: [] });
    expect(r.text).toBe('a : 1\nb\t2\nc=three\nd\\=x=3\n');
  });

  it('collapses duplicate keys it sets so the file is unambiguous', () => {
    const r = editProperties('k=1\nx=0\nk=2\n', { set: { k: '9' }, unset: [] });
    expect(r.text).toBe('k=9\nx=0\n');
  });

  it('creates content for an empty file', () => {
    expect(editProperties('', { set: { k: 'v' }, unset: [] }).text).toBe('k=v\n');
  });
});
