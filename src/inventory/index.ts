// The inventory layer: Ansible YAML/INI inventories in, the Inventory model out, plus Ansible's
// host pattern grammar over it.
export type { BecomeMethod, BecomeSettings, Connection, Group, Host, Inventory, VarValue, Vars } from './types.js';
export { loadInventory, parseInventory, detectInventoryFormat } from './load.js';
export type { InventoryFormat, LoadInventoryOptions, ParseInventoryOptions } from './load.js';
export { selectHosts, limitHosts, validatePattern, parseHostPattern } from './patterns.js';
export type { PatternTerm, TermOp } from './patterns.js';
export { InventoryFile, InventoryGroup, InventoryHostVars, InventoryGroupVars, InventoryVarValue } from './schema.js';
export type { InventoryFileInput, InventoryGroupInput } from './schema.js';
export { readYamlInventory } from './yaml.js';
export { readIniInventory } from './ini.js';
export { resolveInventory, refuseUnusableHosts } from './resolve.js';
export { readDirectoryVars, noDirectoryVars } from './vars-dirs.js';
export type { DirectoryVars } from './vars-dirs.js';
export type { RawInventory, RawGroup, RawHost, VarLayer } from './builder.js';
export { hostAccess } from './connection.js';
export type { HostAccess, ConnectionIssue } from './connection.js';
export { parseHostEntry, expandHostRange } from './host-range.js';
export { parsePythonLiteral } from './python-literal.js';
export { inventoryList, inventoryGraph, inventoryHostVars, groupNames, pythonJson } from './ansible-view.js';
export type { AnsibleListView, AnsibleGroupView } from './ansible-view.js';
export { implicitLocalhost, LOCALHOST_NAMES } from './localhost.js';
export { isAnsibleAddress } from './address.js';
export { directorySources } from './load.js';
export { renderedHostVars, magicVars } from './host-templates.js';
export type { RenderedHostVars } from './host-templates.js';
export { renderJinja, JinjaError } from './jinja.js';
export { groupHostsInOrder } from './patterns.js';
