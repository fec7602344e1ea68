// Splits an INI host line as Python's shlex.split(line, comments=True) does (which is what
// Ansible uses): POSIX quoting, backslash escapes, `#` starting a comment anywhere outside quotes.
// Each word keeps the column it started at, for error messages.

export interface Word {
  text: string;
  /** 0-based offset of the word's first character in the line. */
  offset: number;
}

export type SplitResult = { ok: true; words: Word[] } | { ok: false; error: string; offset: number };

const WHITESPACE = new Set([' ', '\t', '\r', '\n']);

export function splitShellWords(line: string): SplitResult {
  const words: Word[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (WHITESPACE.has(c)) {
      i++;
      continue;
    }
    if (c === '#') break;
    const start = i;
    let text = '';
    let done = false;
    while (i < line.length && !done) {
      const ch = line[i] as string;
      if (WHITESPACE.has(ch)) {
        done = true;
      } else if (ch === '#') {
        // shlex ends the word and ignores the rest of the line.
        words.push({ text, offset: start });
        return { ok: true, words };
      } else if (ch === "'") {
        const close = line.indexOf("'", i + 1);
        if (close < 0) return { ok: false, error: 'no closing quotation', offset: i };
        text += line.slice(i + 1, close);
        i = close + 1;
      } else if (ch === '"') {
        const quoteAt = i;
        i++;
        let closed = false;
        while (i < line.length) {
          const q = line[i] as string;
          if (q === '"') {
            closed = true;
            i++;
            break;
          }
          // Inside double quotes a backslash escapes only `"` and `\`; otherwise it stays.
          if (q === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
            text += line[i + 1];
            i += 2;
            continue;
          }
          text += q;
          i++;
        }
        if (!closed) return { ok: false, error: 'no closing quotation', offset: quoteAt };
      } else if (ch === '\\') {
        if (i + 1 >= line.length) return { ok: false, error: 'no escaped character after the backslash', offset: i };
        text += line[i + 1];
        i += 2;
      } else {
        text += ch;
        i++;
      }
    }
    words.push({ text, offset: start });
  }
  return { ok: true, words };
}
