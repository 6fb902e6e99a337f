// The NDP responder (RFC 4861): reads Neighbor Solicitations for the rules of address-responder.ts and answers
// with a solicited Neighbor Advertisement (Override=1) from the interface's MAC.
import { err, ok, type Result } from '../../core/result.ts';
import {
  decodeNdpFrame,
  encodeNdpFrame,
  isNeighborSolicitationFrame,
  neighborAdvertisementFrameFor,
} from '../../protocol/ndp/neighbor-discovery.ts';
import { AddressResponder, type AddressRequest, type ResponderOptions } from './address-responder.ts';
import type { DroppedFrame } from './responder-metrics.ts';

export function readNeighborSolicitation(bytes: Uint8Array): Result<AddressRequest, DroppedFrame> {
  const decoded = decodeNdpFrame(bytes);
  if (!decoded.ok) return err('invalid');
  const frame = decoded.value;
  if (!isNeighborSolicitationFrame(frame)) return err('not-a-request');
  const { target, sourceLinkLayerAddress } = frame.message;
  return ok({
    target,
    ethernetSource: frame.source,
    // A unicast answer goes to the source link-layer address option, else the Ethernet source: never to a group
    // address taken from the request. (The answer to DAD goes to all-nodes by RFC 4861 section 7.2.4, a fixed group.)
    replyTo: sourceLinkLayerAddress ?? frame.source,
    detail: { source: frame.source, linkLayer: sourceLinkLayerAddress ?? '' },
    answer: (ownMac) => encodeNdpFrame(neighborAdvertisementFrameFor(frame, ownMac, target)),
  });
}

/** Answers Neighbor Solicitations for the owned IPv6 addresses of one interface. */
export function ndpResponder(options: ResponderOptions): AddressResponder {
  return new AddressResponder('ndp', readNeighborSolicitation, options);
}
