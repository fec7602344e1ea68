// Hand-written event sequences: the runs the journal, result, report and views are tested on.
import type { HostStatus, RunEvent } from '../../src/engine/events.js';

/** An event as written by hand: time and seq are filled in by seq(). */
export type Body = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'time' | 'seq'> : never) : never;

const T0 = Date.parse('2026-11-24T13:45:01.000Z');

/** Numbers events from `first` and spaces them 100 ms apart (or by `gapMs`). */
export function seq(bodies: Body[], first = 1, gapMs = 100, start = T0): RunEvent[] {
  return bodies.map((b, i) => ({ ...b, seq: first + i, time: new Date(start + i * gapMs).toISOString() }) as RunEvent);
}

export function counts(partial: Partial<Record<HostStatus, number>> = {}): Record<HostStatus, number> {
  return { ok: 0, changed: 0, failed: 0, 'timed-out': 0, unreachable: 0, skipped: 0, ...partial };
}

export const SECRET = 'hunter2-Sup3rS3cret';

export function runStart(hosts = ['mp-1', 'mp-2']): Extract<Body, { type: 'run-start' }> {
  return {
    type: 'run-start',
    runId: 'r-20261124T134501Z',
    runbook: 'apigee-502-bad-gateway',
    planHash: 'sha256:abc123',
    mode: 'unattended',
    operator: 'alice',
    user: 'alice',
    controller: 'ops-1',
    params: { org: 'prod', admin_password: '********' },
    hosts,
    runDir: 'runs/20261124T134501Z-apigee-502-bad-gateway',
  };
}

/** Read-only diagnosis on two hosts: facts captured. */
export function diagnose(): Body[] {
  return [
    { type: 'step-start', step: 'check_mp', name: 'Check message processors', kind: 'run', mutates: false, hosts: ['mp-1', 'mp-2'] },
    { type: 'host-start', step: 'check_mp', host: 'mp-1', attempt: 1, command: "curl -s 'http://localhost:8082/v1/servers/self'" },
    { type: 'host-start', step: 'check_mp', host: 'mp-2', attempt: 1, command: "curl -s 'http://localhost:8082/v1/servers/self'" },
    { type: 'host-output', step: 'check_mp', host: 'mp-1', stream: 'stdout', line: 'HTTP 502' },
    {
      type: 'host-end',
      step: 'check_mp',
      host: 'mp-1',
      status: 'ok',
      attempt: 1,
      exitCode: 0,
      signal: null,
      durationMs: 420,
      facts: { mp_up: false, heap_pct: 97 },
      outputs: { stdout: 'outputs/check_mp/mp-1.stdout', stderr: 'outputs/check_mp/mp-1.stderr' },
      final: true,
    },
    {
      type: 'host-end',
      step: 'check_mp',
      host: 'mp-2',
      status: 'ok',
      attempt: 1,
      exitCode: 0,
      signal: null,
      durationMs: 380,
      facts: { mp_up: true, heap_pct: 41 },
      final: true,
    },
    { type: 'step-end', step: 'check_mp', status: 'ok', durationMs: 450, counts: counts({ ok: 2 }), next: 'diagnose' },
  ];
}

export function decide(cause: string, condition: string | null): Body[] {
  return [
    { type: 'step-start', step: 'diagnose', name: 'Diagnose', kind: 'decide', mutates: false, hosts: [] },
    {
      type: 'decision',
      step: 'diagnose',
      cause,
      evidence: { condition, facts: { 'mp-1': { mp_up: false, heap_pct: 97 }, 'mp-2': { mp_up: true, heap_pct: 41 } } },
      candidates: ['mp_heap_exhausted', 'router_tls', 'unknown'],
    },
    { type: 'step-end', step: 'diagnose', status: 'ok', durationMs: 3, counts: counts(), next: 'restart_mp' },
  ];
}

/** The whole of a resolved run: diagnose, decide, restart mp-1 (approved by flag), verify, outcome. */
export function resolvedRun(): RunEvent[] {
  return seq([
    runStart(),
    ...diagnose(),
    ...decide('mp_heap_exhausted', 'facts.heap_pct > 90'),
    { type: 'step-start', step: 'restart_mp', name: 'Restart the message processor', kind: 'run', mutates: true, hosts: ['mp-1'] },
    {
      type: 'host-end',
      step: 'restart_mp',
      host: 'mp-2',
      status: 'skipped',
      attempt: 0,
      exitCode: null,
      signal: null,
      durationMs: 0,
      reason: 'condition is false: heap is fine',
      final: true,
    },
    {
      type: 'approval',
      step: 'restart_mp',
      decision: 'approved',
      source: 'flag',
      operator: 'alice',
      hosts: ['mp-1'],
      planHash: 'sha256:abc123',
      commands: [{ host: 'mp-1', command: 'apigee-service edge-message-processor restart' }],
    },
    { type: 'lock', host: 'mp-1', action: 'acquired', detail: 'run r-20261124T134501Z' },
    { type: 'host-start', step: 'restart_mp', host: 'mp-1', attempt: 1, command: 'apigee-service edge-message-processor restart' },
    { type: 'host-output', step: 'restart_mp', host: 'mp-1', stream: 'stdout', line: 'Stopping edge-message-processor' },
    { type: 'host-end', step: 'restart_mp', host: 'mp-1', status: 'failed', attempt: 1, exitCode: 1, signal: null, durationMs: 2100, error: 'exit code 1' },
    { type: 'host-start', step: 'restart_mp', host: 'mp-1', attempt: 2, command: 'apigee-service edge-message-processor restart' },
    { type: 'host-end', step: 'restart_mp', host: 'mp-1', status: 'changed', attempt: 2, exitCode: 0, signal: null, durationMs: 5300 },
    { type: 'host-start', step: 'restart_mp', host: 'mp-1', attempt: 1, phase: 'verify' },
    { type: 'host-end', step: 'restart_mp', host: 'mp-1', status: 'ok', attempt: 1, phase: 'verify', exitCode: 0, signal: null, durationMs: 800, final: true },
    { type: 'step-end', step: 'restart_mp', status: 'ok', durationMs: 8300, counts: counts({ ok: 0, changed: 1, skipped: 1 }), next: 'edit_props' },
    { type: 'step-start', step: 'edit_props', name: 'Raise the heap', kind: 'properties', mutates: true, hosts: ['mp-1'] },
    {
      type: 'approval',
      step: 'edit_props',
      decision: 'approved',
      source: 'flag',
      operator: 'alice',
      hosts: ['mp-1'],
      planHash: 'sha256:abc123',
      diffs: { 'mp-1': '--- a/mp.properties\n+++ b/mp.properties\n-max_heap=1g\n+max_heap=2g\n' },
    },
    { type: 'host-start', step: 'edit_props', host: 'mp-1', attempt: 1, command: 'edit /opt/apigee/customer/application/message-processor.properties' },
    {
      type: 'host-end',
      step: 'edit_props',
      host: 'mp-1',
      status: 'changed',
      attempt: 1,
      exitCode: null,
      signal: null,
      durationMs: 90,
      diff: '--- a/mp.properties\n+++ b/mp.properties\n-max_heap=1g\n+max_heap=2g\n',
      final: true,
    },
    { type: 'step-end', step: 'edit_props', status: 'ok', durationMs: 95, counts: counts({ changed: 1 }), next: 'bundle' },
    { type: 'step-start', step: 'bundle', name: 'Collect diagnostics', kind: 'fetch', mutates: false, hosts: ['mp-1'] },
    { type: 'host-start', step: 'bundle', host: 'mp-1', attempt: 1, command: 'fetch /opt/apigee/var/log/edge-message-processor/system.log' },
    {
      type: 'host-end',
      step: 'bundle',
      host: 'mp-1',
      status: 'ok',
      attempt: 1,
      exitCode: null,
      signal: null,
      durationMs: 1200,
      artifacts: [{ path: 'artifacts/mp-1/system.log', bytes: 2048, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' }],
      final: true,
    },
    { type: 'step-end', step: 'bundle', status: 'ok', durationMs: 1210, counts: counts({ ok: 1 }), next: 'done' },
    { type: 'lock', host: 'mp-1', action: 'released' },
    { type: 'step-start', step: 'done', name: 'Resolved', kind: 'outcome', mutates: false, hosts: [] },
    { type: 'outcome', step: 'done', status: 'resolved', message: 'mp-1 restarted with more heap; 502s stopped' },
    { type: 'step-end', step: 'done', status: 'ok', durationMs: 1, counts: counts(), next: null },
    { type: 'run-end', outcome: 'resolved', cause: 'mp_heap_exhausted', exitCode: 0, durationMs: 12000, hosts: { 'mp-1': 'ok', 'mp-2': 'ok' } },
  ]);
}

export function escalatedRun(): RunEvent[] {
  return seq([
    runStart(),
    ...diagnose(),
    ...decide('unknown', null),
    { type: 'step-start', step: 'escalate', name: 'Hand over', kind: 'outcome', mutates: false, hosts: [] },
    { type: 'outcome', step: 'escalate', status: 'escalate', message: 'no known cause matched: page the Apigee on-call' },
    { type: 'step-end', step: 'escalate', status: 'ok', durationMs: 1, counts: counts(), next: null },
    { type: 'run-end', outcome: 'escalated', cause: 'unknown', exitCode: 3, durationMs: 900, hosts: { 'mp-1': 'ok', 'mp-2': 'ok' } },
  ]);
}

/** Without --yes: the first mutating step is refused; the commands it would have run are recorded. */
export function refusedRun(): RunEvent[] {
  return seq([
    runStart(),
    ...diagnose(),
    ...decide('mp_heap_exhausted', 'facts.heap_pct > 90'),
    { type: 'step-start', step: 'restart_mp', name: 'Restart the message processor', kind: 'run', mutates: true, hosts: ['mp-1'] },
    {
      type: 'approval',
      step: 'restart_mp',
      decision: 'refused',
      source: 'policy',
      operator: 'alice',
      hosts: ['mp-1'],
      planHash: 'sha256:abc123',
      commands: [{ host: 'mp-1', command: 'apigee-service edge-message-processor restart' }],
    },
    {
      type: 'host-end',
      step: 'restart_mp',
      host: 'mp-1',
      status: 'skipped',
      attempt: 0,
      exitCode: null,
      signal: null,
      durationMs: 0,
      reason: 'not approved (run with --yes to apply)',
      final: true,
    },
    { type: 'step-end', step: 'restart_mp', status: 'skipped', durationMs: 4, counts: counts({ skipped: 1 }), next: null },
    {
      type: 'run-end',
      outcome: 'refused',
      cause: 'mp_heap_exhausted',
      exitCode: 5,
      durationMs: 1500,
      message: 'not approved (run with --yes to apply)',
      hosts: { 'mp-1': 'ok', 'mp-2': 'ok' },
    },
  ]);
}

/** The controller was killed while mp-1 was restarting: no host-end, no step-end, no run-end. */
export function interruptedRun(): RunEvent[] {
  return seq([
    runStart(),
    ...diagnose(),
    ...decide('mp_heap_exhausted', 'facts.heap_pct > 90'),
    { type: 'step-start', step: 'restart_mp', name: 'Restart the message processor', kind: 'run', mutates: true, hosts: ['mp-1'] },
    { type: 'approval', step: 'restart_mp', decision: 'approved', source: 'flag', operator: 'alice', hosts: ['mp-1'], planHash: 'sha256:abc123' },
    { type: 'host-start', step: 'restart_mp', host: 'mp-1', attempt: 1, command: 'apigee-service edge-message-processor restart' },
  ]);
}

/** mp-2's sshd is gone: unreachable at the first step. */
export function unreachableRun(): RunEvent[] {
  return seq([
    runStart(),
    { type: 'step-start', step: 'check_mp', name: 'Check message processors', kind: 'run', mutates: false, hosts: ['mp-1', 'mp-2'] },
    { type: 'host-start', step: 'check_mp', host: 'mp-1', attempt: 1 },
    { type: 'host-start', step: 'check_mp', host: 'mp-2', attempt: 1 },
    { type: 'host-end', step: 'check_mp', host: 'mp-1', status: 'ok', attempt: 1, exitCode: 0, signal: null, durationMs: 300, final: true },
    {
      type: 'host-end',
      step: 'check_mp',
      host: 'mp-2',
      status: 'unreachable',
      attempt: 1,
      exitCode: null,
      signal: null,
      durationMs: 10000,
      error: 'mp-2: connect ECONNREFUSED 127.0.0.1:2222',
      final: true,
    },
    { type: 'step-end', step: 'check_mp', status: 'partial', durationMs: 10010, counts: counts({ ok: 1, unreachable: 1 }), next: null },
    {
      type: 'run-end',
      outcome: 'unreachable',
      cause: null,
      exitCode: 4,
      durationMs: 10100,
      message: '1 host unreachable: mp-2',
      hosts: { 'mp-1': 'ok', 'mp-2': 'unreachable' },
    },
  ]);
}

export const BACKEND_SAMPLE = [
  '502s with fault source target in the last 200 requests:',
  '3',
  'fault codes:',
  '      3 target messaging.adaptors.http.flow.ErrorResponseCode',
  'sample lines (time, upstream MP, status, request, message id):',
  '2026-11-24T13:44:58+00:00\t127.0.0.1:27705\t502\tGET /v1/orders HTTP/1.1\trrt-0c8e2a1f9b3d-17',
  '2026-11-24T13:44:59+00:00\t127.0.0.1:27707\t502\tGET /v1/orders HTTP/1.1\trrt-0c8e2a1f9b3d-18',
];

/** backend-error: the Routers' probe shows a target fault; evidence is collected; escalated, nothing changed. */
export function backendEscalatedRun(): RunEvent[] {
  const lines = [...BACKEND_SAMPLE, ...Array.from({ length: 45 }, (_, i) => `filler ${i}`)];
  return seq([
    runStart(['router-1', 'mp-1']),
    { type: 'step-start', step: 'router_probe', name: 'Probe the Router', kind: 'run', mutates: false, hosts: ['router-1'] },
    { type: 'host-start', step: 'router_probe', host: 'router-1', attempt: 1, command: "sudo -n -u apigee -- sh -c 'curl …'" },
    {
      type: 'host-end',
      step: 'router_probe',
      host: 'router-1',
      status: 'ok',
      attempt: 1,
      exitCode: 0,
      signal: null,
      durationMs: 120,
      facts: { probe_status: 502, probe_fault_source: 'target', probe_fault_code: 'messaging.adaptors.http.flow.ErrorResponseCode' },
      final: true,
    },
    { type: 'step-end', step: 'router_probe', status: 'ok', durationMs: 130, counts: counts({ ok: 1 }), next: 'diagnose' },
    { type: 'step-start', step: 'diagnose', name: 'Diagnose', kind: 'decide', mutates: false, hosts: [] },
    {
      type: 'decision',
      step: 'diagnose',
      cause: 'backend-error',
      evidence: {
        condition: 'r.facts.probe_status == 502',
        facts: { 'router-1': { probe_status: 502, probe_fault_code: 'messaging.adaptors.http.flow.ErrorResponseCode' } },
      },
      candidates: ['mps-down', 'backend-error', 'none'],
    },
    { type: 'step-end', step: 'diagnose', status: 'ok', durationMs: 2, counts: counts(), next: 'restart_down_mps' },
    { type: 'step-skip', step: 'restart_down_mps', reason: 'condition is false: cause is "mps-down"' },
    { type: 'step-skip', step: 'verify_routers', reason: 'condition is false: cause is one of …' },
    { type: 'step-start', step: 'backend_evidence', name: 'Collect sample 502s', kind: 'run', mutates: false, hosts: ['router-1'] },
    { type: 'host-start', step: 'backend_evidence', host: 'router-1', attempt: 1, command: "sudo -n -u apigee -- sh -c 'tail …'" },
    {
      type: 'host-end',
      step: 'backend_evidence',
      host: 'router-1',
      status: 'ok',
      attempt: 1,
      exitCode: 0,
      signal: null,
      durationMs: 40,
      outputs: { stdout: 'outputs/backend_evidence/router-1.stdout', stderr: 'outputs/backend_evidence/router-1.stderr' },
      evidence: { title: 'Sample failing requests', lines: lines.slice(0, 40), omitted: lines.length - 40, output: 'outputs/backend_evidence/router-1.stdout' },
      final: true,
    },
    { type: 'step-end', step: 'backend_evidence', status: 'ok', durationMs: 45, counts: counts({ ok: 1 }), next: 'escalate_backend' },
    { type: 'step-start', step: 'escalate_backend', name: 'Hand over', kind: 'outcome', mutates: false, hosts: [] },
    {
      type: 'outcome',
      step: 'escalate_backend',
      status: 'escalate',
      message: "Escalate to the backend team with the sample requests and message ids in this run's report.",
    },
    { type: 'step-end', step: 'escalate_backend', status: 'ok', durationMs: 1, counts: counts(), next: null },
    { type: 'run-end', outcome: 'escalated', cause: 'backend-error', exitCode: 3, durationMs: 1700, hosts: { 'router-1': 'ok', 'mp-1': 'ok' } },
  ]);
}

/** A long unbroken token in the operator's approval comment of partialRun (it must wrap in the HTML). */
export const PARTIAL_TICKET = 'https://tickets.example/INC-20261124-0001234567890123456789012345678901234567890123456789/comments';

/** router-mp-tls fixed on mp-1 (approved with a comment), failed on mp-2 (verification), the run failed: a partial fix. */
export function partialRun(): RunEvent[] {
  const longCommand = `sudo -n -u apigee -- sh -c '${'sed -i -e s/^conf_message-processor-communication_local.http.ssl=.*$/conf_message-processor-communication_local.http.ssl=true/ '.repeat(4)}/opt/apigee/customer/application/message-processor.properties'`;
  return seq([
    runStart(['router-1', 'mp-1', 'mp-2']),
    ...diagnose(),
    ...decide('router-mp-tls', 'hosts("message_processors").exists(m, m.facts.mp_ssl && m.facts.mp_cfg_port != int(m.vars.mp_tls_port))'),
    { type: 'step-start', step: 'restart_mps', name: 'Restart the MPs', kind: 'run', mutates: true, hosts: ['mp-1', 'mp-2'] },
    {
      type: 'approval',
      step: 'restart_mps',
      decision: 'approved',
      source: 'operator',
      operator: 'alice',
      hosts: ['mp-1', 'mp-2'],
      planHash: 'sha256:abc123',
      comment: `checked the diff with the platform team: ${PARTIAL_TICKET}`,
    },
    { type: 'host-start', step: 'restart_mps', host: 'mp-1', attempt: 1, command: longCommand },
    { type: 'host-start', step: 'restart_mps', host: 'mp-2', attempt: 1, command: longCommand },
    { type: 'host-end', step: 'restart_mps', host: 'mp-1', status: 'changed', attempt: 1, exitCode: 0, signal: null, durationMs: 4100, final: true },
    {
      type: 'host-end',
      step: 'restart_mps',
      host: 'mp-2',
      status: 'failed',
      attempt: 1,
      exitCode: 1,
      signal: null,
      durationMs: 3900,
      error: `verification failed: ${'x'.repeat(300)}`,
      final: true,
    },
    {
      type: 'step-end',
      step: 'restart_mps',
      status: 'partial',
      durationMs: 4200,
      counts: counts({ changed: 1, failed: 1 }),
      next: null,
      failedHosts: ['mp-2'],
    },
    {
      type: 'run-end',
      outcome: 'failed',
      cause: 'router-mp-tls',
      exitCode: 1,
      durationMs: 6000,
      message: 'restart_mps failed on mp-2',
      hosts: { 'router-1': 'ok', 'mp-1': 'ok', 'mp-2': 'failed' },
    },
  ]);
}
