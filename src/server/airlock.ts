import type { LoadedConfig } from '../config/load.js';
import { startControlPlane, type StartOptions } from './start.js';

/**
 * Everything `airlock server` runs in one process: the control plane and the
 * gateways the config names. Each part can also be started on its own.
 */
export async function startAirlock(config: LoadedConfig, options: StartOptions = {}) {
  const cp = await startControlPlane(config, options);
  const gatewayLines: string[] = [];
  return {
    ...cp,
    gatewayLines,
    async close() {
      await cp.close();
    },
  };
}
