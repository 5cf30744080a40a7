// The client presenting a token or session changes mid-session: another browser family, OS or device type
// than the one it was issued to, or a script (curl, python-requests, Go-http-client, okhttp, a headless
// browser) on a session issued to a browser. Versions are never compared: browsers update themselves
// mid-session, and a cookie does not move between browsers without someone copying it.
import {
  createMachineIdentityTest, credentialKey, DEFAULT_MACHINE_SUBJECTS, differs, evidenceOf, isAutomation,
  createUseReader, plainUse, roundScore, type Use } from './signals.js'
import { CHANGED_CLIENT, USE_AUTOMATION } from './credential-book.js'
import { NO_FINDINGS, NO_SLOTS, severityFor, type CredentialContext, type Detector, type Finding, type StepResult } from './types.js'

export interface ClientDriftConfig {
  /** A session is forgotten this long after its last use. */
  idleMs: number
  /** Distinct clients kept per session; the issuance client is always kept. */
  maxClients: number
  /**
   * OAuth clients whose tokens are presented by a server on the user's behalf (a backend-for-frontend, an
   * API aggregator): their tool user agents are by design, not drift.
   */
  exemptClientIds: readonly string[]
  machineSubjects: readonly string[]
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_CLIENT_DRIFT: ClientDriftConfig = {
  idleMs: 12 * 3600_000,
  maxClients: 4,
  exemptClientIds: [],
  machineSubjects: DEFAULT_MACHINE_SUBJECTS,
  thresholds: { page: 0.8, ticket: 0.5 },
}

interface Client {
  family: string | null
  os: string | null
  type: string | null
  automation: boolean
  /** Seen on an ISSUE: this is the client the credential was issued to. */
  issued: boolean
  first: number
  last: number
  use: Use
}

export interface ClientDriftState {
  subject: string | null
  session_id: string | null
  token_fp: string | null
  clients: Client[]
  incident_ts: number | null
  reported_score: number
  /** Latest `last` of the clients kept: the expiry without a scan. Absent in states checkpointed before it. */
  last?: number
}

export function createClientDriftDetector(config: ClientDriftConfig = DEFAULT_CLIENT_DRIFT): Detector<ClientDriftState> {
  const read = createUseReader()
  const isMachine = createMachineIdentityTest(config.machineSubjects)
  const exempt = new Set(config.exemptClientIds)
  // Browser family names as normalised by familyOf: a tenant sees few distinct ones.
  const families = new Map<string, string | null>()
  const familyFor = (raw: string | null | undefined): string | null => {
    if (!raw) return null
    let family = families.get(raw)
    if (family === undefined) {
      family = familyOf(raw)
      if (families.size >= 4096) families.clear()
      families.set(raw, family)
    }
    return family
  }
  // The one slot an event touches, reused: the engine reads it before the next call.
  const one = ['']
  return {
    name: 'client_drift',
    slots(event) {
      if (event.kind === 'REVOKE' || (event.result && event.result !== 'OK')) return NO_SLOTS
      if (!event.ua_family && !event.os_family && !event.device_type) return NO_SLOTS
      if (isMachine(event) || (event.client_id && exempt.has(event.client_id))) return NO_SLOTS
      const key = credentialKey(event)
      if (!key) return NO_SLOTS
      one[0] = key
      return one
    },
    step: function clientDrift(state, event, slot, context): StepResult<ClientDriftState> {
      // One client so far (the engine's credential record has it): nothing to keep.
      if (!state && context?.key === slot && context.eventClient !== null &&
        (context.uses === 0 || ((context.changed & CHANGED_CLIENT) === 0 && context.eventClient === context.firstClient))) return { state, findings: NO_FINDINGS }
      const s: ClientDriftState = state ?? fromContext(context, slot) ?? { subject: null, session_id: null, token_fp: null, clients: [], incident_ts: null, reported_score: 0, last: event.ts }
      s.subject ??= event.subject ?? null
      s.session_id ??= event.session_id ?? null
      s.token_fp ??= event.token_fp ?? null
      const ts = event.ts
      const family = familyFor(event.ua_family)
      const os = event.os_family ?? null
      const type = event.device_type ?? null
      const issued = event.kind === 'ISSUE'
      let own: Client | undefined
      for (const c of s.clients) {
        if (!differs(c.family, family) && !differs(c.os, os) && !differs(c.type, type)) { own = c; break }
      }
      // Whether anything judge() or originOf() reads changed; a later use of a known client changes only `last`.
      let changed = true
      if (own) {
        changed = false
        if (ts < own.first) { own.first = ts; own.use = read.useOf(event, context); changed = true }
        if (ts > own.last) own.last = ts
        if (issued && !own.issued) { own.issued = true; changed = true }
      } else {
        own = { family, os, type, automation: isAutomation(event), issued, first: ts, last: ts, use: read.useOf(event, context) }
        s.clients.push(own)
      }
      const origin = originOf(s.clients)
      if (s.clients.length > config.maxClients) {
        s.clients = [origin, ...s.clients.filter((c) => c !== origin).sort((a, b) => b.last - a.last).slice(0, config.maxClients - 1)]
      }
      s.last = latestOf(s.clients)
      // Nothing judged changed: the previous step judged the same clients and reported anything above
      // reported_score, so judging them again cannot find anything new.
      if (!changed) return { state: s, findings: NO_FINDINGS }
      // Judge every client against the issuance client: a late ISSUE (IdP logs arrive minutes after the
      // gateway's) can change which client is the origin.
      let best: { client: Client; score: number; reasons: string[]; confirmed: boolean } | null = null
      for (const c of s.clients) {
        if (c === origin) continue
        const judged = judge(origin, c, config)
        if (judged && (!best || judged.score > best.score)) best = { client: c, ...judged }
      }
      if (!best || best.score <= s.reported_score) return { state: s, findings: NO_FINDINGS }
      s.incident_ts ??= best.client.first
      s.reported_score = best.score
      return { state: s, findings: [toFinding(s, slot, origin, best.client, best.score, best.reasons, best.confirmed, config)] }
    },
    expiry: (state) => (state.last ?? latestOf(state.clients)) + config.idleMs,
  }

  /** The issuance client from the record, when a second client shows up. */
  function fromContext(context: CredentialContext | undefined, slot: string): ClientDriftState | null {
    if (!context || context.key !== slot || context.uses === 0 || context.firstClient === null) return null
    // The record's first use may be one this detector never steps (an exempt backend client).
    if (context.clientId !== null && exempt.has(context.clientId)) return null
    const f = context.first()!
    const [family, os, type] = context.firstClient.split('/').map((x) => (x === '?' ? null : x))
    const use = plainUse(f)
    const origin: Client = {
      family: familyFor(family), os: os ?? null, type: type ?? null, automation: (f.flags & USE_AUTOMATION) !== 0, issued: context.issued,
      first: f.ts, last: context.seenTs, use,
    }
    return {
      subject: context.subject, session_id: slot.startsWith('s:') ? slot.slice(2) : null, token_fp: context.tokenFp, clients: [origin],
      incident_ts: null, reported_score: 0, last: context.seenTs,
    }
  }
}

function latestOf(clients: Client[]): number {
  let last = Number.NEGATIVE_INFINITY
  for (const c of clients) if (c.last > last) last = c.last
  return last
}

/** "Mobile Safari", "Chrome Mobile", "Chrome WebView" are the same engine family as their desktop names. */
function familyOf(family: string | null | undefined): string | null {
  if (!family) return null
  return family.toLowerCase().replace(/\b(mobile|webview)\b/g, '').replace(/\s+/g, ' ').trim() || null
}

/** The client the credential was issued to: the earliest seen on an ISSUE, else the earliest seen at all. */
function originOf(clients: Client[]): Client {
  let earliest: Client | null = null
  let issued: Client | null = null
  for (const c of clients) {
    if (!earliest || c.first < earliest.first) earliest = c
    if (c.issued && (!issued || c.first < issued.first)) issued = c
  }
  return issued ?? earliest!
}

function judge(origin: Client, c: Client, config: ClientDriftConfig): { score: number; reasons: string[]; confirmed: boolean } | null {
  const reasons: string[] = []
  let score: number
  if (c.automation && !origin.automation) {
    // The collector marks HTTP libraries and headless browsers as automation: a person's browser session
    // replayed by a script is what infostealer and phishing-proxy tooling does.
    score = 0.8
    reasons.push(`automation client (${c.family ?? 'unknown tool'}) on a session issued to ${describe(origin)}`)
  } else if (origin.automation) {
    // A session issued to a script: a later browser or another tool is odd, not alarming.
    score = 0.3
    reasons.push(`client changed from ${describe(origin)} to ${describe(c)}`)
  } else {
    score = 0.45
    if (differs(origin.family, c.family)) { score += 0.1; reasons.push(`browser family changed from ${origin.family} to ${c.family}`) }
    if (differs(origin.os, c.os)) { score += 0.15; reasons.push(`operating system changed from ${origin.os} to ${c.os}`) }
    if (differs(origin.type, c.type)) { score += 0.1; reasons.push(`device type changed from ${origin.type} to ${c.type}`) }
  }
  if (reasons.length === 0) return null
  const otherNetwork = differs(origin.use.net, c.use.net)
  const otherDevice = differs(origin.use.device, c.use.device)
  if (otherNetwork) { score += 0.1; reasons.push('from another network than the issuance') }
  if (otherDevice) { score += 0.1; reasons.push('different device id') }
  score = roundScore(score)
  // A drift is decisive when an independent fact agrees: the client changed and so did the network or device.
  return { score, reasons, confirmed: score >= config.thresholds.page && (otherNetwork || otherDevice) }
}

function describe(c: Client): string {
  return [c.family, c.os, c.type].filter(Boolean).join(' on ') || 'an unknown client'
}

function toFinding(s: ClientDriftState, slot: string, origin: Client, drifted: Client, score: number, reasons: string[], confirmed: boolean, config: ClientDriftConfig): Finding {
  return {
    detector: 'client_drift',
    key: slot,
    incident_ts: s.incident_ts!,
    severity: severityFor(score, config.thresholds),
    score,
    confirmed,
    subject: s.subject,
    session_id: s.session_id,
    token_fp: s.token_fp,
    summary: `${slot.startsWith('t:') ? 'token' : 'session'} issued to ${describe(origin)} presented by ${describe(drifted)}`,
    evidence: evidenceOf([origin.use, drifted.use], reasons),
    first_malicious_ts: drifted.first,
  }
}
