// What the BGP FSM's tests share: the session configuration and peer OPEN they run with, the events that establish a
// session, a runner of event lists and readers of the actions it returns.
import { ipv4 } from '../../core/ip/ip-address.ts';
import { FSM_CONFIG } from './fuzz-seeds.ts';
import type { OpenMessage } from '../bgp/open-message.ts';
import { localOpen, type SessionConfig } from '../bgp/session-negotiation.ts';
import { initialSessionState, step } from '../bgp/session-fsm.ts';
import type { SessionAction, SessionEvent, SessionState, SessionStateName } from '../bgp/session-fsm.ts';
import { endOfRib, type UpdateMessage } from '../bgp/update-message.ts';

/** AS 65001 (198.51.100.11) to AS 65000, both families: the session the fuzz seeds walk through every state too. */
export const CONFIG: SessionConfig = FSM_CONFIG;
export const PEER_OPEN: OpenMessage = localOpen({
  ...CONFIG,
  localAs: 65000,
  peerAs: 65001,
  bgpIdentifier: ipv4(198, 51, 100, 1),
});
export const UPDATE: UpdateMessage = endOfRib('ipv4-unicast');
export interface Run {
  readonly state: SessionState;
  readonly steps: { event: SessionEvent; from: SessionStateName; to: SessionStateName; actions: SessionAction[] }[];
}

export function run(events: readonly SessionEvent[], config: SessionConfig = CONFIG, start?: SessionState): Run {
  let state = start ?? initialSessionState(config, 0);
  const steps: Run['steps'] = [];
  events.forEach((event, index) => {
    const result = step(state, event, (index + 1) * 1000);
    steps.push({ event, from: state.name, to: result.state.name, actions: result.actions });
    state = result.state;
  });
  return { state, steps };
}

export function lastActions(result: Run): SessionAction[] {
  return result.steps.at(-1)?.actions ?? [];
}

export function sent(actions: readonly SessionAction[]): string[] {
  return actions.flatMap((action) =>
    action.type === 'send'
      ? [
          action.message.type === 'notification'
            ? `notification ${action.message.code}/${action.message.subcode}`
            : action.message.type,
        ]
      : [],
  );
}

export const ESTABLISH: SessionEvent[] = [
  { type: 'ManualStart' },
  { type: 'TcpConnectionRequestAcked' },
  { type: 'BGPOpen', open: PEER_OPEN },
  { type: 'KeepAliveMsg' },
];
