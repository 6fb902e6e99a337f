// The controller's metrics, as an interface (the Prometheus implementation lives in src/platform).
export interface ControllerMetrics {
  allocationSeconds(seconds: number): void;
  allocationFailure(reason: string): void;
  statusWrite(result: 'written' | 'conflict' | 'gone' | 'error'): void;
  poolUsage(pool: string, family: 'ipv4' | 'ipv6', inUse: number, available: number): void;
  forgetPool(pool: string): void;
}

export const noMetrics: ControllerMetrics = {
  allocationSeconds: () => undefined,
  allocationFailure: () => undefined,
  statusWrite: () => undefined,
  poolUsage: () => undefined,
  forgetPool: () => undefined,
};
