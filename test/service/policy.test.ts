// The policy file: the contract accepted as written, every problem reported as
// file:line:col, routing and templating from alert labels.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { parsePolicy } from '../../src/service/policy.js';
import { findRoute, routeAlert } from '../../src/service/routing.js';

const CONTRACT = `# remedy.policy.yaml
auth:
  tokens:
    - { name: alertmanager, env: REMEDY_HOOK_TOKEN, role: hook }
    - { name: oncall, env: REMEDY_OPERATOR_TOKEN, role: operator }
routes:
  - match: { alertname: Apigee502 }
    runbook: apigee-502-bad-gateway
    inventory: /path/to/inventory.yaml
    mode: auto
    budget: { max: 2, per: 1h }
`;

function diagnostics(text: string): string[] {
  try {
    parsePolicy('p.yaml', text);
  } catch (err) {
    if (err instanceof ValidationError) return err.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`);
    throw err;
  }
  return [];
}

describe('policy file', () => {
  it('accepts the contract file as written, with defaults filled in', () => {
    const { policy } = parsePolicy('remedy.policy.yaml', CONTRACT);
    expect(policy.routes[0]).toMatchObject({
      runbook: 'apigee-502-bad-gateway',
      mode: 'auto',
      queue: 'default',
      budget: { max: 2, per: '1h' },
      breaker: { window: '1h' },
    });
    expect(policy.auth.tokens.map((t) => [t.name, t.role, t.scheme])).toEqual([
      ['alertmanager', 'hook', 'bearer'],
      ['oncall', 'operator', 'bearer'],
    ]);
  });

  it('reports schema problems at file:line:col, all at once', () => {
    const text = CONTRACT.replace('mode: auto', 'mode: yolo')
      .replace('per: 1h', 'per: soon')
      .replace('role: operator', 'role: boss')
      .replace('    inventory:', '    inventroy: x\n    inventory:');
    const d = diagnostics(text);
    expect(d).toEqual([
      'p.yaml:5:57: auth.tokens[1].role: expected one of hook, viewer, operator, admin, got "boss"',
      'p.yaml:11:11: routes[0].mode: expected one of auto, approve, plan, got "yolo"',
      'p.yaml:12:28: routes[0].budget.per: expected a duration such as 30s, 5m, 1h or 1h30m',
      'p.yaml:9:5: routes[0]: unknown key "inventroy"',
    ]);
  });

  it('reports missing keys, bad YAML, bad regexes, bad templates and inverted windows', () => {
    expect(diagnostics('routes: []\n')).toEqual(expect.arrayContaining([expect.stringMatching(/^p\.yaml:1:1: policy is missing "auth"/)]));
    expect(diagnostics('auth: {tokens: [\n')[0]).toMatch(/^p\.yaml:\d+:\d+: YAML: /);
    const bad = `${CONTRACT}    match_re: { instance: "a(" }\n    params: { region: "{{ labels.region " }\nmaintenance:\n  - { name: m, start: "2026-01-02T00:00:00Z", end: "2026-01-01T00:00:00Z" }\n`;
    const d = diagnostics(bad);
    expect(d.some((l) => /^p\.yaml:12:27: invalid regular expression/.test(l))).toBe(true);
    expect(d.some((l) => /^p\.yaml:13:23: template: /.test(l))).toBe(true);
    expect(d.some((l) => /^p\.yaml:15:\d+: maintenance window "m" ends before it starts/.test(l))).toBe(true);
    expect(diagnostics('- 1\n')).toEqual(['p.yaml:1:1: a policy is a YAML map with auth and routes, got a list']);
  });

  it('routes by labels and renders params and --limit from them; a missing label is an error, not an empty value', () => {
    const { policy } = parsePolicy(
      'p.yaml',
      `${CONTRACT}  - match: { alertname: MPDown }
    match_re: { region: "dc-[0-9]+" }
    runbook: apigee-502-bad-gateway
    inventory: /inv.yaml
    params: { region: "{{ labels.region }}" }
    limit: "{{ labels.region }}:&message-processor"
    queue: dc-1
`,
    );
    const alert = {
      source: 'alertmanager' as const,
      status: 'firing' as const,
      fingerprint: 'f',
      labels: { alertname: 'MPDown', region: 'dc-1' },
      annotations: {},
      startsAt: null,
    };
    const route = findRoute(policy, alert);
    expect(route?.queue).toBe('dc-1');
    const routed = routeAlert(policy, route!, alert);
    expect(routed).toMatchObject({
      params: { region: 'dc-1' },
      limit: 'dc-1:&message-processor',
      scope: 'apigee-502-bad-gateway limit=dc-1:&message-processor region=dc-1',
    });
    expect(findRoute(policy, { ...alert, labels: { alertname: 'MPDown', region: 'eu' } })).toBeNull();
    const noRegion = { ...alert, labels: { alertname: 'MPDown', region: 'dc-2' } };
    expect(routeAlert(policy, route!, noRegion).params).toEqual({ region: 'dc-2' });
    const route2 = { ...route!, params: { region: '{{ labels.zone }}' } };
    expect(() => routeAlert(policy, route2, alert)).toThrow(/params\.region: .*undefined variable: labels\.zone/);
  });
});
