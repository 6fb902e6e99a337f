// A control packet received from a BFD peer as the session FSM's tests and seeds feed it: Detect Mult 3, 100 ms
// intervals, no Echo, no flags; the fields a case cares about given.
import type { BfdControlPacket, BfdState } from '../bfd/control-packet.ts';
import type { BfdEvent } from '../bfd/session-fsm.ts';

export function receivedPacket(
  state: BfdState,
  myDiscriminator: number,
  yourDiscriminator: number,
  fields: Partial<BfdControlPacket> = {},
): BfdEvent {
  return {
    type: 'PacketReceived',
    packet: {
      diagnostic: 0,
      state,
      poll: false,
      final: false,
      controlPlaneIndependent: false,
      demand: false,
      detectMultiplier: 3,
      myDiscriminator,
      yourDiscriminator,
      desiredMinTxInterval: 100_000,
      requiredMinRxInterval: 100_000,
      requiredMinEchoRxInterval: 0,
      ...fields,
    },
  };
}
