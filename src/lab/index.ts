// The lab's programmatic API, for the CLI, the demo and other end-to-end tests:
//   const lab = await labUp({ dir });      // healthy: every Router answers 200
//   await labBreak(dir, 'mps-down', ['dc_1']);
//   await labHeal(dir);
//   await labDown(dir);                    // nothing left running or listening
export { labUp, labDown, type LabDownOptions } from './lifecycle.js';
export { labBreak, labBreakMany, labHeal, parseScenario, MP_SLOW_DELAY_MS } from './faults.js';
export type { FaultRequest } from './targets.js';
export { labStatus } from './status.js';
export { readState, labInfo, DEFAULT_LAB_DIR } from './state.js';
export { apigeePaths, labPaths, routerLogFiles, routerUrl, sshdPaths } from './topology.js';
export { INVENTORY_VARS_DOC } from './inventory.js';
export {
  API_PATH,
  ROUTER_SCENARIOS,
  SCENARIOS,
  SCENARIO_HELP,
  type AppliedFault,
  type LabHost,
  type LabHostInfo,
  type LabHostStatus,
  type LabInfo,
  type LabMpHost,
  type LabRouterHost,
  type LabRouterInfo,
  type LabState,
  type LabStatus,
  type LabUpOptions,
  type Scenario,
} from './types.js';
