// POSIX single-quoting: safe under sh, dash, bash, busybox and zsh alike. zx's quote() emits
// bash-only $'…' strings, which dash runs as code, so it is never used for remote commands.

/** Quotes one value as a single shell word. */
export function shellQuote(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quotes every argument and joins them into one command line. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
