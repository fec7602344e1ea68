import { Writable } from 'node:stream';

/** A writable that records everything; `tty` makes it look like a terminal to the views. */
export class Capture extends Writable {
  text = '';
  isTTY: boolean;
  columns = 120;
  rows = 50;
  constructor(tty = false) {
    super();
    this.isTTY = tty;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.text += chunk.toString();
    cb();
  }
  /** Without ANSI escapes (colours, cursor moves). */
  get plain(): string {
    return this.text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  }
}

export function asTty(c: Capture): NodeJS.WriteStream {
  return c as unknown as NodeJS.WriteStream;
}
