// The API server starts enforcing a new ValidatingAdmissionPolicy a moment after it is created (its informer and
// type check): tests that expect a refusal wait here until both of config/admission are in force.
import type { ControlPlane } from '../../src/lab/control-plane.ts';
import { waitUntil } from '../../src/lab/wait-until.ts';
import { INSTALL_NAMESPACE } from '../../src/lab/component-process.ts';
import { ALLOCATED_CONDITION } from '../../src/core/config/allocation-record.ts';

function tryKubectl(cp: ControlPlane, args: readonly string[], input?: string): { ok: boolean; out: string } {
  try {
    return { ok: true, out: cp.kubectl(args, input) };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { ok: false, out: e.stderr ?? e.message };
  }
}

export async function waitForAdmissionPolicies(cp: ControlPlane): Promise<void> {
  // A speaker token bound to no Pod names no node: once the Lease policy is in force it may write no Lease.
  const unbound = cp.serviceAccountKubeconfig(INSTALL_NAMESPACE, 'beaconlb-speaker');
  const probeLease = JSON.stringify({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'beaconlb-speaker-policy-probe', namespace: INSTALL_NAMESPACE },
  });
  await waitUntil(
    'the speaker Lease policy to be in force',
    () => {
      const res = tryKubectl(cp, [`--kubeconfig=${unbound}`, 'create', '-f', '-'], probeLease);
      if (res.ok) cp.kubectl(['delete', 'lease', 'beaconlb-speaker-policy-probe', '-n', INSTALL_NAMESPACE]);
      return !res.ok && res.out.includes('beaconlb-speaker-lease') ? true : undefined;
    },
    30_000,
    250,
  );
  // The same token may write no ServiceAnnouncement record once that policy is in force.
  const probeRecord = JSON.stringify({
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'ServiceAnnouncement',
    metadata: { name: 'probe.node1', namespace: 'default' },
    spec: { service: 'probe', node: 'node1' },
  });
  await waitUntil(
    'the speaker announcement record policy to be in force',
    () => {
      const res = tryKubectl(cp, [`--kubeconfig=${unbound}`, 'create', '-f', '-'], probeRecord);
      if (res.ok) cp.kubectl(['delete', 'serviceannouncement', 'probe.node1', '-n', 'default']);
      return !res.ok && res.out.includes('beaconlb-speaker-announcements') ? true : undefined;
    },
    30_000,
    250,
  );
  // Admin may write any status, but not the allocation record.
  tryKubectl(cp, ['create', 'service', 'loadbalancer', 'policy-probe', '-n', 'default', '--tcp=80']);
  const record = JSON.stringify({
    status: {
      conditions: [
        {
          type: ALLOCATED_CONDITION,
          status: 'True',
          reason: 'Allocated',
          message: '198.51.100.1',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  });
  await waitUntil(
    'the allocation record policy to be in force',
    () => {
      const res = tryKubectl(cp, [
        'patch',
        'service',
        'policy-probe',
        '-n',
        'default',
        '--subresource=status',
        '--type=merge',
        '-p',
        record,
      ]);
      if (res.ok)
        cp.kubectl([
          'patch',
          'service',
          'policy-probe',
          '-n',
          'default',
          '--subresource=status',
          '--type=merge',
          '-p',
          '{"status":{"conditions":null}}',
        ]);
      return !res.ok && res.out.includes('beaconlb-allocation-record') ? true : undefined;
    },
    30_000,
    250,
  );
  cp.kubectl(['delete', 'service', 'policy-probe', '-n', 'default']);
}
