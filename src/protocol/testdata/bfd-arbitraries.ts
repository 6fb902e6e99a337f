// fast-check arbitraries for BFD control packets (round-trip properties and the decoder fuzz campaign).
import fc from 'fast-check';
import type { BfdControlPacket, BfdState } from '../bfd/control-packet.ts';

const states: readonly BfdState[] = ['AdminDown', 'Down', 'Init', 'Up'];
const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });

/** Any packet the decoder accepts: P and F not both, Detect Mult and My Discriminator not 0. */
export const bfdControlPacket: fc.Arbitrary<BfdControlPacket> = fc
  .record({
    diagnostic: fc.integer({ min: 0, max: 31 }),
    state: fc.constantFrom(...states),
    pollFinal: fc.constantFrom<[boolean, boolean]>([false, false], [true, false], [false, true]),
    controlPlaneIndependent: fc.boolean(),
    demand: fc.boolean(),
    detectMultiplier: fc.integer({ min: 1, max: 255 }),
    myDiscriminator: fc.integer({ min: 1, max: 0xffff_ffff }),
    yourDiscriminator: uint32,
    desiredMinTxInterval: uint32,
    requiredMinRxInterval: uint32,
    requiredMinEchoRxInterval: uint32,
    authentication: fc.option(
      fc
        .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 28 }))
        .map(([type, data]) => ({ type, data })),
      { nil: undefined },
    ),
  })
  .map(({ pollFinal, authentication, ...rest }) => ({
    ...rest,
    poll: pollFinal[0],
    final: pollFinal[1],
    ...(authentication === undefined ? {} : { authentication }),
  }));
