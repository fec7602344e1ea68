// A .properties edit as the plan shows it, without reading the file: apart from edit.ts so that
// planning does not load the diff library (start-up time of every command that plans).

export interface PropertiesEdit {
  set: Record<string, string>;
  unset: string[];
}

/** The edit as a diff-like listing, for plans made without reading the file. */
export function describePropertiesEdit(edit: PropertiesEdit): string {
  const lines = [...Object.entries(edit.set).map(([k, v]) => `+ ${k}=${v}`), ...edit.unset.map((k) => `- ${k}`)];
  return lines.join('\n');
}
