// Ansible's parse_address(address, allow_ranges=True) (ansible/parsing/utils/addresses.py), as a
// yes/no: is this text one host address, optionally with ranges and a port? split_host_pattern
// uses it to keep `fe80::1`, `10.0.0.[1:3]` and `host:22` whole instead of splitting on ':'.
// The regexes are Ansible's, including how its IPv6 alternation anchors (re.match, `$` binding
// only to the last alternative).

const NUMERIC_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const IPV6_PART = String.raw`(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
const IPV4_PART = String.raw`(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUMERIC_RANGE})`;
const LABEL = String.raw`(?:[\p{L}\p{N}_]|${ALNUM_RANGE})(?:[\p{L}\p{N}_-]|${ALNUM_RANGE})*(?<![_-])`;

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/s;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/s;
const IPV4 = new RegExp(String.raw`^(?:${IPV4_PART}\.){3}${IPV4_PART}$`, 'i');
const P = IPV6_PART;
const IPV6 = new RegExp(
  [
    String.raw`^(?:${P}:){7}${P}`,
    String.raw`^(?:${P}:){1,6}:`,
    String.raw`^(?:${P}:)(?::${P}){1,6}`,
    String.raw`^(?:${P}:){2}(?::${P}){1,5}`,
    String.raw`^(?:${P}:){3}(?::${P}){1,4}`,
    String.raw`^(?:${P}:){4}(?::${P}){1,3}`,
    String.raw`^(?:${P}:){5}(?::${P}){1,2}`,
    String.raw`^(?:${P}:){6}(?::${P})`,
    String.raw`^:(?::${P}){1,6}`,
    String.raw`^${P}?::`,
    String.raw`^(?:0:){6}(?:${P}\.){3}${P}`,
    String.raw`^::(?:ffff:)?(?:${P}\.){3}${P}`,
    String.raw`^(?:0:){5}ffff:(?:${P}\.){3}${P}$`,
  ].join('|'),
  'i',
);
const HOSTNAME = new RegExp(String.raw`^${LABEL}(?:\.${LABEL})*$`, 'iu');

/** True when Ansible's parse_address (ranges allowed) accepts the text. */
export function isAnsibleAddress(text: string): boolean {
  let address = text;
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(address);
    if (m) address = m[1] as string;
  }
  return IPV4.test(address) || IPV6.test(address) || HOSTNAME.test(address);
}
