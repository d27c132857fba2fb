import { header, SipRequest } from '../sip/message';
import { formatNameAddr } from '../sip/address';
import { TransferRequest, TransferResult, Transferrer } from './transfer';

/**
 * Blind transfer by REFER (RFC 3515) in the caller's dialog: `Refer-To: <sip:EXT@PBX>`,
 * then the NOTIFYs' sipfrag (RFC 3420) tell how the PBX's new call went.
 */

/** How long to wait for the final NOTIFY after the REFER was accepted. */
export const NOTIFY_TIMEOUT_MS = 20_000;

export function referTarget(extension: string, pbxHost: string): string {
  if (/^sips?:/i.test(extension)) return extension;
  return `sip:${encodeURIComponent(extension).replace(/%2B/g, '+').replace(/%23/g, '%23')}@${pbxHost}`;
}

/** The status line of a message/sipfrag body ("SIP/2.0 200 OK"). */
export function sipfragStatus(body: string): number | undefined {
  const m = /^SIP\/2\.0 (\d{3})/.exec(body.trim());
  return m === null ? undefined : Number(m[1]);
}

export class ReferTransferrer implements Transferrer {
  readonly mode = 'refer' as const;

  constructor(private readonly notifyTimeoutMs = NOTIFY_TIMEOUT_MS) {}

  async transfer(request: TransferRequest): Promise<TransferResult> {
    const { dialog } = request;
    const referTo = formatNameAddr({
      display: request.name ?? '',
      uri: referTarget(request.extension, request.pbxHost),
      params: new Map(),
    });
    // Listen before sending: a fast PBX may NOTIFY before its 202 reaches us.
    let settle: (r: TransferResult) => void = () => undefined;
    const final = new Promise<TransferResult>((resolve) => {
      settle = resolve;
    });
    const onNotify = (notify: SipRequest): void => {
      if (!/^refer/i.test(header(notify, 'event') ?? '')) return;
      const status = sipfragStatus(notify.body.toString('utf8'));
      if (status === undefined || status < 200) return;
      settle(
        status < 300
          ? { ok: true, reason: `the PBX reports ${status}` }
          : { ok: false, reason: `the PBX reports ${status} for extension ${request.extension}` },
      );
    };
    // A PBX that completes the transfer may just hang up our leg.
    const onEnd = (): void => settle({ ok: true, reason: 'the PBX ended our leg after accepting the REFER' });
    dialog.on('notify', onNotify);
    try {
      let response;
      try {
        response = await dialog.request('REFER', [
          ['Refer-To', referTo],
          ['Referred-By', dialog.contact],
        ]);
      } catch (err) {
        return { ok: false, reason: `REFER failed: ${(err as Error).message}` };
      }
      if (response.status >= 300) return { ok: false, reason: `REFER refused with ${response.status} ${response.reason}` };
      dialog.once('terminated', onEnd);
      const timer = setTimeout(
        () => settle({ ok: true, reason: `REFER accepted (${response.status}); no final NOTIFY within ${this.notifyTimeoutMs} ms` }),
        this.notifyTimeoutMs,
      );
      const result = await final;
      clearTimeout(timer);
      return result;
    } finally {
      dialog.off('notify', onNotify);
      dialog.off('terminated', onEnd);
    }
  }
}
