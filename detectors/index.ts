import { createApiAnomalyDetector, DEFAULT_API_ANOMALY, type ApiAnomalyConfig } from './api-anomaly.js'
import { createClientDriftDetector, DEFAULT_CLIENT_DRIFT, type ClientDriftConfig } from './client-drift.js'
import { createExpiredAcceptedDetector, DEFAULT_EXPIRED_ACCEPTED, type ExpiredAcceptedConfig } from './expired-accepted.js'
import { createImpossibleTravelDetector, DEFAULT_IMPOSSIBLE_TRAVEL, type ImpossibleTravelConfig } from './impossible-travel.js'
import { createMfaLessPrivilegeDetector, DEFAULT_MFA_LESS_PRIVILEGE, type MfaLessPrivilegeConfig } from './mfa-less-privilege.js'
import { createMultiNetworkDetector, DEFAULT_MULTI_NETWORK, type MultiNetworkConfig } from './multi-network.js'
import { createRefreshReuseDetector, DEFAULT_REFRESH_REUSE, type RefreshReuseConfig } from './refresh-reuse.js'
import { createRevokedAcceptedDetector, DEFAULT_REVOKED_ACCEPTED, type RevokedAcceptedConfig } from './revoked-accepted.js'
import { createSessionFixationDetector, DEFAULT_SESSION_FIXATION, type SessionFixationConfig } from './session-fixation.js'
import { createSessionForkDetector, DEFAULT_SESSION_FORK, type SessionForkConfig } from './session-fork.js'
import type { Detector } from './types.js'

/** Per-detector settings by detector name; anything left out keeps the documented default (docs/detectors.md). */
export interface DetectorOverrides {
  multi_network?: Partial<MultiNetworkConfig>
  impossible_travel?: Partial<ImpossibleTravelConfig>
  client_drift?: Partial<ClientDriftConfig>
  revoked_accepted?: Partial<RevokedAcceptedConfig>
  expired_accepted?: Partial<ExpiredAcceptedConfig>
  refresh_reuse?: Partial<RefreshReuseConfig>
  session_fork?: Partial<SessionForkConfig>
  session_fixation?: Partial<SessionFixationConfig>
  mfa_less_privilege?: Partial<MfaLessPrivilegeConfig>
  api_anomaly?: Partial<ApiAnomalyConfig>
}

export type DetectorName = keyof DetectorOverrides

export interface DetectorsConfig {
  /** The multi-network window (the pipeline's `windowMs`); the other detectors keep their own. */
  windowMs: number
  overrides?: DetectorOverrides
  /** Detectors not to run at all. */
  disabled?: readonly DetectorName[]
}

/** The detector set the pipeline and the backtest both run, in a fixed order (detections come out in it). */
export function createDetectors(config: DetectorsConfig): Detector<unknown>[] {
  const o = config.overrides ?? {}
  const all: [DetectorName, () => unknown][] = [
    ['multi_network', () => createMultiNetworkDetector({ ...DEFAULT_MULTI_NETWORK, windowMs: config.windowMs, ...o.multi_network })],
    ['impossible_travel', () => createImpossibleTravelDetector({ ...DEFAULT_IMPOSSIBLE_TRAVEL, ...o.impossible_travel })],
    ['client_drift', () => createClientDriftDetector({ ...DEFAULT_CLIENT_DRIFT, ...o.client_drift })],
    ['revoked_accepted', () => createRevokedAcceptedDetector({ ...DEFAULT_REVOKED_ACCEPTED, ...o.revoked_accepted })],
    ['expired_accepted', () => createExpiredAcceptedDetector({ ...DEFAULT_EXPIRED_ACCEPTED, ...o.expired_accepted })],
    ['refresh_reuse', () => createRefreshReuseDetector({ ...DEFAULT_REFRESH_REUSE, ...o.refresh_reuse })],
    ['session_fork', () => createSessionForkDetector({ ...DEFAULT_SESSION_FORK, ...o.session_fork })],
    ['session_fixation', () => createSessionFixationDetector({ ...DEFAULT_SESSION_FIXATION, ...o.session_fixation })],
    ['mfa_less_privilege', () => createMfaLessPrivilegeDetector({ ...DEFAULT_MFA_LESS_PRIVILEGE, ...o.mfa_less_privilege })],
    ['api_anomaly', () => createApiAnomalyDetector({ ...DEFAULT_API_ANOMALY, ...o.api_anomaly })],
  ]
  const disabled = new Set(config.disabled ?? [])
  return all.filter(([name]) => !disabled.has(name)).map(([, create]) => create() as Detector<unknown>)
}
