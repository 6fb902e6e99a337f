// Installs Beacon LB's cluster-wide objects from config/ (namespaces, CRDs until Established, RBAC, admission policies).
import { join } from 'node:path';
import type { ControlPlane } from './control-plane.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

export function installBase(cp: ControlPlane): void {
  cp.kubectl(['apply', '-k', join(REPO_ROOT, 'config/namespace')]);
  cp.kubectl(['apply', '-k', join(REPO_ROOT, 'config/crd')]);
  cp.kubectl(['wait', '--for=condition=Established', '--timeout=30s', 'crd', '-l', 'app.kubernetes.io/name=beaconlb']);
  cp.kubectl(['apply', '-k', join(REPO_ROOT, 'config/rbac')]);
  cp.kubectl(['apply', '-k', join(REPO_ROOT, 'config/admission')]);
}
