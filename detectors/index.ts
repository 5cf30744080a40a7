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

/** Every detector's defaults by name, in the order the set runs them. */
const DEFAULTS: Record<DetectorName, object> = {
  multi_network: DEFAULT_MULTI_NETWORK,
  impossible_travel: DEFAULT_IMPOSSIBLE_TRAVEL,
  client_drift: DEFAULT_CLIENT_DRIFT,
  revoked_accepted: DEFAULT_REVOKED_ACCEPTED,
  expired_accepted: DEFAULT_EXPIRED_ACCEPTED,
  refresh_reuse: DEFAULT_REFRESH_REUSE,
  session_fork: DEFAULT_SESSION_FORK,
  session_fixation: DEFAULT_SESSION_FIXATION,
  mfa_less_privilege: DEFAULT_MFA_LESS_PRIVILEGE,
  api_anomaly: DEFAULT_API_ANOMALY,
}

export const DETECTOR_NAMES = Object.keys(DEFAULTS) as DetectorName[]

/** Overrides and switched-off detectors, as a settings file gives them (SW_DETECTORS_FILE, docs/detectors.md). */
export interface DetectorSettings {
  overrides: DetectorOverrides
  disabled: DetectorName[]
}

/**
 * Checks a settings document against the detectors' own defaults: every key must be one the default has, with a
 * value of the same shape (number, boolean, string, list of strings or numbers, nested object), so a typo or a
 * wrong unit is an error that names the path rather than a setting silently ignored.
 */
export function parseDetectorSettings(document: unknown): { ok: true; settings: DetectorSettings } | { ok: false; problems: string[] } {
  const problems: string[] = []
  const settings: DetectorSettings = { overrides: {}, disabled: [] }
  if (!isPlainObject(document)) return { ok: false, problems: ['the document must be an object of detector names'] }
  for (const [key, value] of Object.entries(document)) {
    if (key === 'disabled') {
      if (!Array.isArray(value)) { problems.push('disabled: must be a list of detector names'); continue }
      for (const name of value) {
        if (typeof name === 'string' && name in DEFAULTS) settings.disabled.push(name as DetectorName)
        else problems.push(`disabled: unknown detector ${JSON.stringify(name)} (known: ${DETECTOR_NAMES.join(', ')})`)
      }
    } else if (key in DEFAULTS) {
      const before = problems.length
      checkShape(value, DEFAULTS[key as DetectorName], key, problems)
      if (problems.length === before) (settings.overrides as Record<string, unknown>)[key] = value
    } else {
      problems.push(`${key}: unknown detector (known: ${DETECTOR_NAMES.join(', ')}, and "disabled")`)
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, settings }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function checkShape(value: unknown, reference: unknown, path: string, problems: string[]): void {
  if (isPlainObject(reference)) {
    if (!isPlainObject(value)) { problems.push(`${path}: must be an object`); return }
    for (const [key, inner] of Object.entries(value)) {
      if (!(key in reference)) problems.push(`${path}.${key}: unknown setting (known: ${Object.keys(reference).join(', ')})`)
      else checkShape(inner, reference[key], `${path}.${key}`, problems)
    }
  } else if (Array.isArray(reference)) {
    const element = reference.length > 0 ? typeof reference[0] : null
    if (!Array.isArray(value)) problems.push(`${path}: must be a list`)
    else if (value.some((v) => (element ? typeof v !== element : typeof v !== 'string' && typeof v !== 'number'))) {
      problems.push(`${path}: every element must be a ${element ?? 'string or number'}`)
    }
  } else if (typeof reference === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) problems.push(`${path}: must be a non-negative number`)
  } else if (typeof value !== typeof reference) {
    problems.push(`${path}: must be a ${typeof reference}`)
  }
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
