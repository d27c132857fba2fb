import { Dialog } from '../sip/dialog';

/**
 * The Transfer port (DESIGN.md): puts a caller through to an extension, by SIP REFER or
 * through the PBX's gRPC hooks, and says whether it worked. It never throws: a failure is
 * a result, and the call flow sends the caller to the operator.
 */

export interface TransferRequest {
  store: string;
  callId: string;
  sipCallId: string;
  extension: string;
  /** Who is being called, for the Refer-To display name (the PBX shows it). */
  name?: string;
  caller: string;
  dialog: Dialog;
  /** The store's PBX host (`--pbx`), else the host the INVITE came from. */
  pbxHost: string;
  /** The store's PbxHooks address (`--hooks HOST:PORT`), for gRPC transfers. */
  hooks: string;
}

export interface TransferResult {
  ok: boolean;
  reason: string;
}

export interface Transferrer {
  readonly mode: 'refer' | 'grpc';
  transfer(request: TransferRequest): Promise<TransferResult>;
}
