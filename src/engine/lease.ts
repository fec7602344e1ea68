// Host leases held outside the run (remedy serve's Redis leases): taken with the host lock before
// the first mutation on a host, and checked again before every mutating command. A lease carries
// a fencing token that grows with every holder: a worker that stalled past its lease (and whose
// run another worker took over) finds a newer token and must not touch the host again. The CLI
// has no leases; its per-host lock directories (lock.ts) are taken by both, so the CLI and the
// service respect each other's locks.

export type LeaseAttempt = { held: true; token: number; detail?: string | undefined } | { held: false; detail: string };

export interface HostLeases {
  /** Takes (or, for the same run after a takeover, takes over) the host's lease. */
  acquire(host: string): Promise<LeaseAttempt>;
  /** null while this run still holds the host's lease with its token; otherwise why it does not. */
  check(host: string): Promise<string | null>;
  /** Gives the lease back if it is still ours (never someone else's). */
  release(host: string): Promise<void>;
}
