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
  /** The transfer could not be asked for at all (the PBX hooks unreachable), as opposed to refused. */
  unreachable?: boolean;
}

export interface Transferrer {
  readonly mode: 'refer' | 'grpc';
  transfer(request: TransferRequest): Promise<TransferResult>;
}

/**
 * A store that transfers through its PBX's gRPC hooks: when the hooks cannot be reached
 * (down, timed out), the same transfer is asked for by SIP REFER instead, so that the
 * caller is not hung up for want of a hook. A refusal by the hooks stands (the PBX said no).
 */
export class FallbackTransferrer implements Transferrer {
  readonly mode = 'grpc' as const;

  constructor(
    private readonly primary: Transferrer,
    private readonly fallback: Transferrer,
  ) {}

  async transfer(request: TransferRequest): Promise<TransferResult> {
    const first = await this.primary.transfer(request);
    if (first.ok || first.unreachable !== true) return first;
    const second = await this.fallback.transfer(request);
    return { ok: second.ok, reason: `${first.reason}; by SIP REFER instead: ${second.reason}` };
  }
}
