// What a CEL condition reads, found by walking its AST: the validator checks facts, params, vars,
// host patterns and cause names against the runbook; the planner learns whether a condition can
// be decided before anything runs.
import type { ASTNode } from '@marcbachmann/cel-js';

/** A name read by an expression, with its offset in the expression text. */
export interface Located {
  name: string;
  offset: number;
}

export interface ExpressionRefsDetail {
  /** `facts.x` on the condition's own host. */
  hostFacts: Located[];
  /** `h.facts.x` on hosts of a fleet condition (`hosts('p').all(h, h.facts.x)`). */
  fleetFacts: Located[];
  params: Located[];
  vars: Located[];
  /** Literal host patterns passed to hosts(). */
  patterns: Located[];
  /** String literals `cause` is compared with (`cause == "mps-down"`, `cause in [...]`). */
  causeLiterals: Located[];
  usesCause: boolean;
  usesHost: boolean;
  usesResult: boolean;
}

const MACROS_WITH_VARIABLE = new Set(['all', 'exists', 'exists_one', 'filter', 'map']);

export function collectRefs(root: ASTNode): ExpressionRefsDetail {
  const refs: ExpressionRefsDetail = {
    hostFacts: [],
    fleetFacts: [],
    params: [],
    vars: [],
    patterns: [],
    causeLiterals: [],
    usesCause: false,
    usesHost: false,
    usesResult: false,
  };

  const isId = (node: ASTNode, name: string, bound: ReadonlySet<string>): boolean => node.op === 'id' && node.args === name && !bound.has(name);

  const stringLiterals = (node: ASTNode): Located[] => {
    if (node.op === 'value' && typeof node.args === 'string') return [{ name: node.args, offset: node.start }];
    if (node.op === 'list') return node.args.flatMap(stringLiterals);
    return [];
  };

  const walk = (node: ASTNode, bound: ReadonlySet<string>): void => {
    switch (node.op) {
      case 'id':
        if (bound.has(node.args)) return;
        if (node.args === 'cause') refs.usesCause = true;
        else if (node.args === 'facts' || node.args === 'host') refs.usesHost = true;
        else if (node.args === 'result') refs.usesResult = true;
        return;
      case 'value':
        return;
      case '.':
      case '.?': {
        const [obj, field] = node.args;
        const fieldOffset = node.end - field.length;
        if (isId(obj, 'facts', bound)) refs.hostFacts.push({ name: field, offset: fieldOffset });
        else if (isId(obj, 'params', bound)) refs.params.push({ name: field, offset: fieldOffset });
        else if (isId(obj, 'vars', bound)) refs.vars.push({ name: field, offset: fieldOffset });
        else if ((obj.op === '.' || obj.op === '.?') && obj.args[1] === 'facts' && obj.args[0].op === 'id' && bound.has(obj.args[0].args)) {
          refs.fleetFacts.push({ name: field, offset: fieldOffset });
        }
        walk(obj, bound);
        return;
      }
      case '[]':
      case '[?]': {
        const [obj, index] = node.args;
        if (index.op === 'value' && typeof index.args === 'string') {
          const named = { name: index.args, offset: index.start + 1 };
          if (isId(obj, 'facts', bound)) refs.hostFacts.push(named);
          else if (isId(obj, 'params', bound)) refs.params.push(named);
          else if (isId(obj, 'vars', bound)) refs.vars.push(named);
        }
        walk(obj, bound);
        walk(index, bound);
        return;
      }
      case 'call': {
        const [name, args] = node.args;
        if (name === 'hosts' && args[0]?.op === 'value' && typeof args[0].args === 'string') {
          refs.patterns.push({ name: args[0].args, offset: args[0].start + 1 });
        }
        for (const a of args) walk(a, bound);
        return;
      }
      case 'rcall': {
        const [name, receiver, args] = node.args;
        const variable = args[0];
        if (MACROS_WITH_VARIABLE.has(name) && variable?.op === 'id' && args.length >= 2) {
          walk(receiver, bound);
          const inner = new Set(bound).add(variable.args);
          for (const a of args.slice(1)) walk(a, inner);
          return;
        }
        if (name === 'bind' && isId(receiver, 'cel', bound) && variable?.op === 'id' && args.length === 3) {
          walk(args[1] as ASTNode, bound);
          walk(args[2] as ASTNode, new Set(bound).add(variable.args));
          return;
        }
        walk(receiver, bound);
        for (const a of args) walk(a, bound);
        return;
      }
      case 'list':
        for (const a of node.args) walk(a, bound);
        return;
      case 'map':
        for (const [k, v] of node.args) {
          walk(k, bound);
          walk(v, bound);
        }
        return;
      case '!_':
      case '-_':
        walk(node.args, bound);
        return;
      case '?:':
        for (const a of node.args) walk(a, bound);
        return;
      default: {
        const [left, right] = node.args;
        if ((node.op === '==' || node.op === '!=' || node.op === 'in') && isId(left, 'cause', bound)) {
          refs.causeLiterals.push(...stringLiterals(right));
        } else if ((node.op === '==' || node.op === '!=') && isId(right, 'cause', bound)) {
          refs.causeLiterals.push(...stringLiterals(left));
        }
        walk(left, bound);
        walk(right, bound);
      }
    }
  };
  walk(root, new Set());
  return refs;
}
