import { createHash } from 'node:crypto'
import type { Detection } from '../../schemas/model.js'

/**
 * One incident per stolen session (or token, when there is no session): every detection about it belongs
 * to the same incident, whichever detector or window produced it. Deterministic, so a replayed history or
 * a restarted alerter names the same incident and the receiver's idempotency check drops the repeat.
 */
export function incidentId(d: Pick<Detection, 'subject' | 'session_id' | 'token_fp' | 'detection_id'>): string {
  const about = d.session_id ? `s:${d.session_id}` : d.token_fp ? `t:${d.token_fp}` : `d:${d.detection_id}`
  return 'inc_' + createHash('sha256').update(`${d.subject ?? ''}\u0000${about}`).digest('hex').slice(0, 32)
}
