// `properties`: an edit of a key=value file on each host, previewed as a diff read from the real
// file, written atomically (backup, owner, mode), then verified.
import { hostOf } from '../context.js';
import { applyProperties, isPreview, previewProperties } from '../properties-action.js';
import { mapBounded } from '../timing.js';
import type { HostAction, PreparedChange } from './action.js';

export const propertiesAction: HostAction<'properties'> = {
  on: 'hosts',
  prepare: async (e, step, hosts) => {
    const redact = (s: string): string => e.emitter.redactor.redact(s);
    const prepared: PreparedChange = { wouldRun: [], unchanged: [], failedEarly: [], commands: [], diffs: {} };
    const previews = await mapBounded(hosts, e.forks, (name) => previewProperties(e, step, hostOf(e, name)));
    hosts.forEach((name, i) => {
      const p = previews[i];
      if (p === undefined) return;
      if (!isPreview(p)) prepared.failedEarly.push(p);
      else if (!p.changed) prepared.unchanged.push(name);
      else {
        prepared.wouldRun.push(name);
        prepared.diffs[name] = redact(p.diff);
        prepared.commands.push({ host: name, command: redact(`edit ${p.file}`) });
      }
    });
    return prepared;
  },
  preview: async (e, step, hosts, p) => {
    const redact = (s: string): string => e.emitter.redactor.redact(s);
    const previews = await mapBounded(hosts, e.forks, (name) => previewProperties(e, step, hostOf(e, name)));
    hosts.forEach((name, i) => {
      const r = previews[i];
      if (r && isPreview(r)) {
        if (!r.changed) p.unchanged.push(name);
        else p.diffs[name] = redact(r.diff);
        p.commands.push({ host: name, command: redact(`edit ${r.file}`) });
      } else {
        p.commands.push({ host: name, command: redact(`edit (cannot read the file: ${r?.error ?? 'unknown'})`) });
      }
    });
    p.hosts = p.hosts.filter((h) => !p.unchanged.includes(h));
  },
  execute: applyProperties,
};
