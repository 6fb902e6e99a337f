// The ARP responder (RFC 826): reads ARP requests for the rules of address-responder.ts and answers with a reply
// from the interface's MAC, to the sender hardware address of the request.
import { err, ok, type Result } from '../../core/result.ts';
import { arpReplyFrame, decodeArpFrame, encodeArpFrame } from '../../protocol/arp/arp-packet.ts';
import {
  AddressResponder,
  type AddressRequest,
  type ResponderBinding,
  type ResponderOptions,
} from './address-responder.ts';
import type { DroppedFrame } from './responder-metrics.ts';

export function readArpRequest(bytes: Uint8Array, binding: ResponderBinding): Result<AddressRequest, DroppedFrame> {
  const decoded = decodeArpFrame(bytes);
  if (!decoded.ok) return err('invalid');
  const frame = decoded.value;
  const { packet } = frame;
  if (packet.op !== 'request') return err('not-a-request');
  // Our own announcements (sender = target = the address, from our MAC), seen on the way out, need no answer.
  if (packet.senderIp === packet.targetIp && packet.senderMac === binding.mac) return err('own-announcement');
  return ok({
    target: packet.targetIp,
    ethernetSource: frame.source,
    // The reply goes to the sender hardware address (RFC 826): never to a group address taken from the request.
    replyTo: packet.senderMac,
    detail: { source: frame.source, senderMac: packet.senderMac },
    answer: (ownMac) => encodeArpFrame(arpReplyFrame(frame, ownMac)),
  });
}

/** Answers ARP requests for the owned IPv4 addresses of one interface. */
export function arpResponder(options: ResponderOptions): AddressResponder {
  return new AddressResponder('arp', readArpRequest, options);
}
