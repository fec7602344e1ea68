import { describe, expect, it } from 'vitest';
import { SUDO_PROMPT_MARKER } from '../../src/shell/become.js';
import { BoundedBuffer, MarkerStripper, OutputSink, PgidMarkerFilter } from '../../src/transport/output.js';
import { PGID_MARKER, killProcessGroupCommand, wrapInProcessGroup } from '../../src/transport/process-group.js';

/** Feeds `text` to a filter in every possible two-chunk split and returns each result. */
function allSplits(make: () => { push(b: Buffer): Buffer; flush(): Buffer }, text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= text.length; i++) {
    const f = make();
    out.push(Buffer.concat([f.push(Buffer.from(text.slice(0, i))), f.push(Buffer.from(text.slice(i))), f.flush()]).toString());
  }
  return out;
}

describe('PgidMarkerFilter', () => {
  it('removes the marker line and records the group id at any chunk boundary', () => {
    const text = `bash: warning: setlocale\n${PGID_MARKER}4242\nreal error\n`;
    for (const got of allSplits(() => new PgidMarkerFilter(), text)) expect(got).toBe('bash: warning: setlocale\nreal error\n');
    const f = new PgidMarkerFilter();
    f.push(Buffer.from(text));
    expect(f.pgid).toBe(4242);
  });

  it('only takes the first marker: a command cannot spoof a second one', () => {
    const f = new PgidMarkerFilter();
    const out = f.push(Buffer.from(`${PGID_MARKER}10\n${PGID_MARKER}1\n`));
    expect(f.pgid).toBe(10);
    expect(out.toString()).toBe(`${PGID_MARKER}1\n`);
  });

  it('passes ordinary stderr through without waiting for a newline', () => {
    const f = new PgidMarkerFilter();
    expect(f.push(Buffer.from('no newline yet')).toString()).toBe('no newline yet');
  });
});

describe('MarkerStripper', () => {
  it('removes sudo prompts split across chunks', () => {
    const text = `${SUDO_PROMPT_MARKER}out ${SUDO_PROMPT_MARKER}${SUDO_PROMPT_MARKER}end [remedy`;
    for (const got of allSplits(() => new MarkerStripper(SUDO_PROMPT_MARKER), text)) expect(got).toBe('out end [remedy');
  });
});

describe('BoundedBuffer and OutputSink', () => {
  it('keeps the first N bytes, flags truncation, and still streams everything', () => {
    const seen: Buffer[] = [];
    const sink = new OutputSink(10, (c) => seen.push(c));
    sink.write(Buffer.from('0123456'));
    sink.write(Buffer.from('789abcdef'));
    sink.end();
    expect(sink.buffer.toString()).toBe('0123456789');
    expect(sink.buffer.truncated).toBe(true);
    expect(Buffer.concat(seen).toString()).toBe('0123456789abcdef');
  });

  it('is not truncated when the output fits', () => {
    const b = new BoundedBuffer(4);
    b.push(Buffer.from('abcd'));
    expect(b.truncated).toBe(false);
  });
});

describe('process-group commands', () => {
  it('quotes the command once for the setsid fallback and inlines it for the leader path', () => {
    const cmd = `echo 'it''s' "$HOME"`;
    const w = wrapInProcessGroup(cmd);
    expect(w.endsWith(`; fi; ${cmd}`)).toBe(true);
    expect(w).toContain(`remedy 'echo '\\''it'\\'''\\''s'\\'' "$HOME"'`);
    expect(w.split('\n')).toHaveLength(1);
  });

  it('refuses to signal process group 0 or 1', () => {
    expect(() => killProcessGroupCommand(1, 'TERM')).toThrow();
    expect(() => killProcessGroupCommand(0, 'KILL')).toThrow();
    expect(killProcessGroupCommand(1234, 'KILL')).toBe('kill -s KILL -- -1234 2>/dev/null || kill -s KILL 1234 2>/dev/null; true');
  });
});
