// Where a {{ value }} lands in a command decides how it must be escaped: single quotes are inert
// outside quotes, but inside "…" or an unquoted here-document `$(…)` still runs. Commands are
// rendered with a placeholder word per value, parsed by a real shell parser (mvdan/sh, POSIX and
// bash syntax), and each placeholder is replaced by its value escaped for the context it is in.
// Contexts that cannot be made safe (backquotes, arithmetic, ${…}, a here-document delimiter, a
// comment) are refused, never guessed.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { ContextCache, contextCacheDir, moduleHash } from './context-cache.js';
import { shellQuote } from './quote.js';

export type ShellContext =
  | { kind: 'unquoted' }
  | { kind: 'double' }
  | { kind: 'single' }
  | { kind: 'comment' }
  | { kind: 'heredoc'; quoted: boolean; delimiter: string; stripTabs: boolean; prefix: string; suffix: string }
  | { kind: 'refused'; why: string };

/** A placeholder word: letters and digits only, so the parser sees it as plain word text everywhere. */
const NONCE = randomBytes(6).toString('hex');
export const SLOT_PATTERN = new RegExp(`RmdySlot${NONCE}n(\\d+)z`, 'g');
export function slotWord(index: number): string {
  return `RmdySlot${NONCE}n${index}z`;
}

// mvdan-sh is a GopherJS build: untyped, and ~300 ms to load, so only loaded when a command
// actually interpolates a value.
interface ShPos {
  Offset(): number;
}
interface ShNode {
  Pos(): ShPos;
  End(): ShPos;
  [field: string]: unknown;
}
interface ShSyntax {
  NewParser(...opts: unknown[]): { Parse(src: string, name: string): ShNode };
  Walk(node: ShNode, fn: (node: ShNode | null) => boolean): void;
  NodeType(node: ShNode): string;
  KeepComments(keep: boolean): unknown;
  Variant(lang: number): unknown;
  LangBash: number;
}
let syntax: ShSyntax | null = null;
function sh(): ShSyntax {
  syntax ??= (createRequire(import.meta.url)('mvdan-sh') as { syntax: ShSyntax }).syntax;
  return syntax;
}

/** The shell could not parse the command: its message, and the offset when known. */
export class ShellParseError extends Error {
  offset: number | undefined;
  constructor(message: string, offset?: number) {
    super(message);
    this.offset = offset;
  }
}

const cache = new Map<string, ShellContext[]>();
const CACHE_LIMIT = 5_000;

function offsetOf(text: string, line: number, col: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl === -1) return text.length;
    off = nl + 1;
  }
  return off + col - 1;
}

/**
 * The context of every slot word in `skeleton`, in order of slot index (slots are numbered 0..n-1
 * by the renderer, each used once). Throws ShellParseError when the text is not shell.
 */
export function slotContexts(skeleton: string, count: number): ShellContext[] {
  const cached = cache.get(skeleton);
  if (cached) return cached;
  const found = fromDisk(skeleton, count) ?? parseContexts(skeleton, count);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(skeleton, found);
  return found;
}

/**
 * The disk cache (context-cache.ts) holds contexts with this process's placeholder prefix written
 * as \u0001 (JSON text never holds that character raw), so entries serve any later process. A
 * skeleton that itself holds \u0001 is not cached: its key could be mistaken for another's.
 */
const SLOT_PREFIX = `RmdySlot${NONCE}n`;
let disk: ContextCache | undefined;
function diskCache(): ContextCache {
  return (disk ??= new ContextCache(contextCacheDir(), moduleHash(import.meta.url)));
}

function fromDisk(skeleton: string, count: number): ShellContext[] | null {
  if (skeleton.includes('\u0001')) return null;
  const hit = diskCache().get(skeleton.replaceAll(SLOT_PREFIX, '\u0001'));
  if (hit === undefined) return null;
  try {
    const contexts = JSON.parse(hit.replaceAll('\u0001', SLOT_PREFIX)) as ShellContext[];
    return Array.isArray(contexts) && contexts.length === count ? contexts : null;
  } catch {
    return null;
  }
}

function parseContexts(skeleton: string, count: number): ShellContext[] {
  const s = sh();
  let file: ShNode;
  try {
    file = s.NewParser(s.KeepComments(true), s.Variant(s.LangBash)).Parse(skeleton, '');
  } catch (err) {
    // GopherJS throws Go errors: their text comes from Error(), e.g. `1:6: reached EOF without closing quote "`.
    const goError = (err as { Error?: () => string }).Error;
    const raw = typeof goError === 'function' ? goError.call(err) : err instanceof Error ? err.message : String(err);
    const m = /^(\d+):(\d+): (.*)$/s.exec(raw);
    const message = (text: string): string => text.replace(SLOT_PATTERN, '{{ … }}');
    throw m ? new ShellParseError(message(m[3] ?? raw), offsetOf(skeleton, Number(m[1]), Number(m[2]))) : new ShellParseError(message(raw));
  }
  const slots: { offset: number; index: number }[] = [];
  for (const m of skeleton.matchAll(SLOT_PATTERN)) slots.push({ offset: m.index, index: Number(m[1]) });
  const out: ShellContext[] = Array.from({ length: count }, () => ({ kind: 'refused', why: 'where the shell does not read it as part of a word' }));
  const stack: ShNode[] = [];
  s.Walk(file, (node) => {
    if (node === null) {
      stack.pop();
      return true;
    }
    const type = s.NodeType(node);
    if (CONTIGUOUS.has(type)) {
      // Every call into the GopherJS build costs (most of a parse's time was this walk): a word
      // or simple command with no slot in its text has none below it, so it is not entered.
      const start = node.Pos().Offset();
      const end = node.End().Offset();
      if (!slots.some((slot) => slot.offset >= start && slot.offset < end)) return false;
    }
    stack.push(node);
    if (type !== 'Lit' && type !== 'SglQuoted' && type !== 'Comment') return true;
    const start = node.Pos().Offset();
    const end = node.End().Offset();
    for (const slot of slots) {
      if (slot.offset < start || slot.offset >= end) continue;
      if (type === 'Comment') out[slot.index] = { kind: 'comment' };
      else if (type === 'SglQuoted') out[slot.index] = node.Dollar ? refused("inside $'…'") : { kind: 'single' };
      else out[slot.index] = contextOf(s, stack, skeleton, slot.offset);
    }
    return true;
  });
  if (!skeleton.includes('\u0001')) diskCache().set(skeleton.replaceAll(SLOT_PREFIX, '\u0001'), JSON.stringify(out).replaceAll(SLOT_PREFIX, '\u0001'));
  return out;
}

/**
 * Nodes whose descendants all lie inside their own text: words and their parts, a simple
 * command, and the constructs closed by their own token (`)`, `}`, `fi`, `done`, `esac`, `]]`),
 * inside which any here-document must end. Not a statement, a pipeline or `&&` list, `time`, or
 * a redirection: a here-document's body and a trailing comment belong to those but come after
 * their end. Only these are skipped when no slot is inside.
 */
const CONTIGUOUS = new Set([
  'Word',
  'CallExpr',
  'DblQuoted',
  'ParamExp',
  'CmdSubst',
  'ProcSubst',
  'ArithmExp',
  'Subshell',
  'Block',
  'IfClause',
  'WhileClause',
  'ForClause',
  'CaseClause',
  'TestClause',
  'ArithmCmd',
]);

const PLAIN_WORD_PARENTS = new Set([
  'CallExpr',
  'Stmt',
  'CmdSubst',
  'File',
  'Redirect',
  'DeclClause',
  'ForClause',
  'WordIter',
  'CaseClause',
  'CaseItem',
  'TestClause',
  'BinaryTest',
  'UnaryTest',
  'ParenTest',
  'ProcSubst',
  'Block',
  'Subshell',
  'IfClause',
  'WhileClause',
  'BinaryCmd',
  'FuncDecl',
  'TimeClause',
  'CoprocClause',
]);

function refused(why: string): ShellContext {
  return { kind: 'refused', why };
}

/** The context of a Lit (the top of `stack`), from its nearest quoting or expanding ancestor. */
function contextOf(s: ShSyntax, stack: readonly ShNode[], text: string, at: number): ShellContext {
  // Backquotes strip one level of backslashes before the inner command is parsed: no escape
  // written for the inner context would survive as written.
  for (const n of stack) if (s.NodeType(n) === 'CmdSubst' && n.Backquotes) return refused('inside `…` backquotes (use $(…))');
  for (let i = stack.length - 2; i >= 0; i--) {
    const n = stack[i] as ShNode;
    switch (s.NodeType(n)) {
      case 'DblQuoted':
        return n.Dollar ? refused('inside $"…"') : { kind: 'double' };
      case 'ParamExp':
        return refused('inside ${…}');
      case 'ArithmExp':
      case 'ArithmCmd':
      case 'LetClause':
      case 'CStyleLoop':
        return refused('inside arithmetic $((…))');
      case 'ExtGlob':
      case 'BraceExp':
        return refused('inside a glob or brace pattern');
      case 'Assign':
        if (i === stack.length - 2) return refused('as a variable name');
        return { kind: 'unquoted' };
      case 'Word': {
        const parent = stack[i - 1];
        if (parent && s.NodeType(parent) === 'Redirect' && parent.Hdoc) {
          const hdoc = parent.Hdoc as ShNode;
          const word = parent.Word as ShNode;
          if (n.Pos().Offset() !== hdoc.Pos().Offset()) return refused('in a here-document delimiter');
          const delimText = text.slice(word.Pos().Offset(), word.End().Offset());
          const opAt = (parent.OpPos as ShPos).Offset();
          const lineStart = text.lastIndexOf('\n', at - 1) + 1;
          const lineEnd = text.indexOf('\n', at);
          return {
            kind: 'heredoc',
            quoted: /['"\\]/.test(delimText),
            delimiter: delimText.replace(/['"\\]/g, ''),
            stripTabs: text.startsWith('<<-', opAt),
            prefix: text.slice(lineStart, at),
            suffix: text.slice(at, lineEnd === -1 ? text.length : lineEnd).replace(SLOT_PATTERN, ''),
          };
        }
        continue;
      }
      default: {
        // A plain word of a command, an argument list, a redirection target, a test: quoted
        // like an argument. Anything else (arithmetic, array indexes…) is refused.
        const type = s.NodeType(n);
        if (PLAIN_WORD_PARENTS.has(type)) return { kind: 'unquoted' };
        return refused(type.endsWith('Arithm') ? 'inside arithmetic $((…))' : `in a shell construct values are not placed in (${type})`);
      }
    }
  }
  return { kind: 'unquoted' };
}

export class UnsafeContextError extends Error {}

/**
 * A value's text escaped for a context: inert there, and read back by the shell byte for byte.
 * `words` is the value as one or more words (a list is one word per element outside quotes).
 */
export function escapeFor(context: ShellContext, words: readonly string[]): string {
  switch (context.kind) {
    case 'unquoted':
      return words.map(shellQuote).join(' ');
    case 'double':
      return words.join(' ').replace(/[\\$`"]/g, '\\$&');
    case 'single':
      return words.join(' ').replace(/'/g, `'\\''`);
    case 'comment':
      // Quotes mean nothing in a comment; only a line break would end it and start a command.
      if (words.some((w) => /[\n\r]/.test(w))) throw new UnsafeContextError('a value holding a line break cannot be placed in a comment');
      return words.map(shellQuote).join(' ');
    case 'heredoc': {
      const text = words.join(' ');
      // A line equal to the delimiter would end the here-document and run what follows.
      const lines = `${context.prefix}${text}${context.suffix}`.split('\n');
      const strip = (l: string): string => (context.stripTabs ? l.replace(/^\t+/, '') : l).replace(/\r$/, '');
      if (lines.length > 1 && lines.some((l) => strip(l) === context.delimiter)) {
        throw new UnsafeContextError(`the value holds a line "${context.delimiter}", which would end the here-document`);
      }
      return context.quoted ? text : text.replace(/[\\$`]/g, '\\$&');
    }
    case 'refused':
      throw new UnsafeContextError(`a value cannot be placed safely ${context.why}`);
  }
}
