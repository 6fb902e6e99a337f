// Runs `beaconlb controller` as a separate process under the controller ServiceAccount of config/rbac.
import { metricValue, startControllerProcess, type ComponentProcess } from '../../src/lab/component-process.ts';
import type { ClusterFixture } from './cluster.ts';

export type ControllerProcess = ComponentProcess;
export { metricValue };

export function startController(
  cluster: ClusterFixture,
  args: readonly string[] = [],
  options: { until?: 'ready' | 'serving' } = {},
): Promise<ControllerProcess> {
  return startControllerProcess(cluster, args, options);
}
