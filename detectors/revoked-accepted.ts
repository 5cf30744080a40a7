// A revoked token, session or user still accepted by a validator after the revocation had time to propagate.
// Each validator's propagation latency (its first rejection after the revoke) goes into the evidence.
//
// Slots: everything about a user — their presentations, their revocations of any scope — lives in one slot
// per subject ('u:'+subject), so a user-wide revoke reaches all of the user's sessions and a token or session
// revoke finds its credential among them. Presentations that name no subject (a gateway that sees only an
// opaque cookie) live in a slot per session ('s:') or, without a session, per token ('t:'); a revocation is
// copied into those slots too, where it matches only those subject-less presentations. Every presentation is
// in exactly one slot, so a revocation is matched once per credential: one finding.
//
// Presentations are kept for a while as compact per-validator buckets, because a revocation can arrive after
// the validation it invalidates (IdP logs lag gateway logs by minutes). Most of a user's presentations are
// already in the engine's record of their credential, which keeps the latest accepted one with what it
// presented and to whom (CredentialContext.lastPresentation): an accepted presentation naming its subject is
// left to the record, and becomes a bucket here only when a different one takes its place there (another
// token, validator or network). A revocation is matched against the buckets and, for each of the user's
// credentials, the record's latest presentation. A quiet user keeps no bucket at all.
import type { AuthEvent, RevokeScope } from '../schemas/model.js'
import { clientOf, credentialKey, createUseReader, evidenceOf, overwriteUse, placeOf, plainUse, roundScore, sharedUseOf, useOf, type Use } from './signals.js'
import { appended, createInterner } from './compact.js'
import { validatorOf } from './credential-book.js'
import { NO_FINDINGS, NO_SLOTS, severityFor, type CredentialContext, type Detector, type Finding, type Presentation, type RecordedUse, type StepResult } from './types.js'

export interface RevokedAcceptedConfig {
  /** Time a revocation may take to reach validators (caches, introspection caches, edge replication). */
  allowanceMs: number
  /** Per-validator allowances, for validators with a known longer cache. */
  validatorAllowanceMs: Readonly<Record<string, number>>
  /** How long a revocation is remembered (a stolen cookie may be replayed hours after logout). */
  rememberMs: number
  /** How long presentations are kept for a revocation that arrives late. */
  lateRevokeMs: number
  /**
   * Whether session and user revocations cover self-contained access/ID tokens. Off by default: RFC 9068 JWT
   * access tokens are validated without asking the IdP and stay valid until they expire after a logout, by
   * design. Introspected presentations (action 'introspect') are always covered.
   */
  sessionRevokesAccessTokens: boolean
  /** Revocations kept per user: every logout is one. */
  maxRevocations: number
  maxBuckets: number
  maxNetworks: number
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_REVOKED_ACCEPTED: RevokedAcceptedConfig = {
  allowanceMs: 30_000,
  validatorAllowanceMs: {},
  rememberMs: 24 * 3600_000,
  lateRevokeMs: 15 * 60_000,
  sessionRevokesAccessTokens: false,
  maxRevocations: 16,
  maxBuckets: 16,
  maxNetworks: 8,
  thresholds: { page: 0.8, ticket: 0.5 },
}

interface Revocation {
  id: string
  ts: number
  scope: RevokeScope
  session_id: string | null
  token_fp: string | null
  jti: string | null
  client_id: string | null
  use: Use
  /** A login re-established this session id after the revocation (some servers keep the id). */
  reissued: number | null
  /** validator -> ms from the revocation to its first rejection. */
  latency: Record<string, number>
  /** incident key (the revoked token, or the session) -> highest score reported for it. */
  hits: Record<string, number>
}

/** Presentations of one credential to one validator from one network with one outcome, summarised. */
interface Bucket {
  cred: string
  session_id: string | null
  token_fp: string | null
  jti: string | null
  validator: string
  ok: boolean
  net: string | null
  client: string | null
  /** A self-contained token checked locally (see sessionRevokesAccessTokens). */
  stateless: boolean
  issued_at: number | null
  client_id: string | null
  first: number
  first_id: string
  last: number
  use: Use
}

/**
 * key -> first time seen, as a flat list [key, time, key, time, …] in the order keys were first added. A list
 * rather than an object: an object per user with keys no other user has (session ids) costs V8 a hidden class
 * of its own, about 200 bytes. States checkpointed before held objects; they are read as lists (listOf).
 */
export type FirstSeen = (string | number)[]

export interface RevokedAcceptedState {
  /** null in a user's slot ('u:'+subject), which names it; states checkpointed before keep it there too. */
  subject: string | null
  revocations: Revocation[]
  buckets: Bucket[]
  /** network -> first time the user (or credential) was seen on it. */
  nets: FirstSeen
  /** client -> first time seen. */
  clients: FirstSeen
  /**
   * credential -> when it came to be: which credentials existed before a user-wide revoke. A login on the
   * same session id after a revocation makes it new again.
   */
  creds: FirstSeen
  last: number
}

interface Violation {
  rev: Revocation
  bucket: Bucket
  /** The accepted presentation blamed: its time and event id. */
  at: number
  atId: string
}

/** The revocations of the many users who have none: one shared list, replaced (never written) on the first. */
const NO_REVOCATIONS: Revocation[] = Object.freeze([]) as unknown as Revocation[]

export function createRevokedAcceptedDetector(config: RevokedAcceptedConfig = DEFAULT_REVOKED_ACCEPTED): Detector<RevokedAcceptedState> {
  const read = createUseReader()
  // Validator names and OAuth client ids repeat across every user: each distinct one is kept once.
  const intern = createInterner(1 << 12)
  // The engine's names for the event's network and client (shared instances), else this detector's own.
  const networkOf = (event: AuthEvent, context: CredentialContext | undefined) => (context ? context.eventNetwork : read.networkOf(event))
  const clientFor = (event: AuthEvent, context: CredentialContext | undefined) => (context ? context.eventClient : clientOf(event))
  const allowanceFor = (validator: string) => config.validatorAllowanceMs[validator] ?? config.allowanceMs

  function covers(rev: Revocation, b: Bucket, s: RevokedAcceptedState): boolean {
    switch (rev.scope) {
      case 'token':
        // The jti joins an IdP's record of the token with a gateway's fingerprint of it.
        return (b.token_fp !== null && b.token_fp === rev.token_fp) || (b.jti !== null && b.jti === rev.jti)
      case 'session': {
        // A presentation naming the session, or (a gateway that sees only the cookie) naming the revoked cookie.
        const same = b.session_id !== null ? b.session_id === rev.session_id : b.token_fp !== null && b.token_fp === rev.token_fp
        return same && (!b.stateless || config.sessionRevokesAccessTokens)
      }
      default: {
        if (b.stateless && !config.sessionRevokesAccessTokens) return false
        // User- and client-wide: only credentials that existed before the revocation; a login after it is new.
        const born = b.issued_at ?? firstSeen(s.creds, b.cred)
        if (born === undefined || born >= rev.ts) return false
        return rev.scope === 'user' || (rev.client_id !== null && rev.client_id === b.client_id)
      }
    }
  }

  /**
   * Matches the presentations kept against a revocation just seen (possibly arriving after them): rejections
   * give the validator's propagation latency, acceptances past the allowance are violations. A bucket's first
   * and last presentations are the candidates.
   */
  function match(rev: Revocation, buckets: Bucket[], s: RevokedAcceptedState): Violation[] {
    const out: Violation[] = []
    for (const b of buckets) {
      if (b.last < rev.ts || !covers(rev, b, s)) continue
      const candidates = [{ ts: b.first, id: b.first_id }, { ts: b.last, id: b.use.id }]
      if (!b.ok) {
        const first = candidates.find((c) => c.ts >= rev.ts)
        if (first && (rev.latency[b.validator] === undefined || first.ts - rev.ts < rev.latency[b.validator]!)) rev.latency[b.validator] = first.ts - rev.ts
        continue
      }
      const deadline = rev.ts + allowanceFor(b.validator)
      const late = candidates.find((c) => c.ts > deadline && (rev.reissued === null || c.ts < rev.reissued))
      if (late) out.push({ rev, bucket: b, at: late.ts, atId: late.id })
    }
    return out
  }

  /**
   * Matches one presentation just seen (at `ts`, event `id`, summarised in bucket `b`) against a revocation:
   * a rejection gives the validator's propagation latency, an acceptance past the allowance is a violation.
   */
  function matchPresentation(rev: Revocation, b: Bucket, s: RevokedAcceptedState, ts: number, id: string): Violation | null {
    if (b.last < rev.ts || !covers(rev, b, s)) return null
    if (!b.ok) {
      if (ts >= rev.ts && (rev.latency[b.validator] === undefined || ts - rev.ts < rev.latency[b.validator]!)) rev.latency[b.validator] = ts - rev.ts
      return null
    }
    const deadline = rev.ts + allowanceFor(b.validator)
    if (ts > deadline && (rev.reissued === null || ts < rev.reissued)) return { rev, bucket: b, at: ts, atId: id }
    return null
  }

  function judge(v: Violation, s: RevokedAcceptedState): { score: number; reasons: string[]; confirmed: boolean } {
    const { rev, bucket } = v
    const allowance = allowanceFor(bucket.validator)
    const reasons = [
      `${rev.scope} revocation at ${new Date(rev.ts).toISOString()} still accepted by ${bucket.validator} ${Math.round((v.at - rev.ts) / 1000)} s later (allowance ${Math.round(allowance / 1000)} s)`,
    ]
    let score = 0.6
    // Networks and clients the owner had used up to the revocation.
    const knownNets = seenBy(s.nets, rev.ts)
    const knownClients = seenBy(s.clients, rev.ts)
    const newNetwork = knownNets.length > 0 && bucket.net !== null && !knownNets.includes(bucket.net)
    const newClient = knownClients.length > 0 && bucket.client !== null && !knownClients.includes(bucket.client)
    if (newNetwork) { score += 0.3; reasons.push(`accepted from a network not used before the revocation (${bucket.net})`) }
    if (newClient) { score += 0.2; reasons.push(`accepted from a client not used before the revocation (${bucket.client})`) }
    if (!newNetwork && !newClient) reasons.push('same network and client as before the revocation: a propagation failure, not yet an intrusion')
    for (const [validator, ms] of Object.entries(rev.latency)) reasons.push(`${validator} first rejected it ${Math.round(ms / 100) / 10} s after the revocation`)
    score = roundScore(score)
    // Decisive: a credential its owner gave up is used by someone else and a validator let them in.
    return { score, reasons, confirmed: newNetwork || newClient }
  }

  // The one slot a presentation touches, reused: the engine reads it before the next call.
  const one = ['']
  return {
    name: 'revoked_accepted',
    slots(event) {
      if (event.kind === 'REVOKE') return revocationSlots(event)
      if (event.kind === 'VALIDATE' || (event.kind === 'ISSUE' && event.subject)) {
        const slot = presentationSlot(event)
        if (slot === null) return NO_SLOTS
        one[0] = slot
        return one
      }
      return NO_SLOTS
    },
    step: function revokedAccepted(state, event, slot, context): StepResult<RevokedAcceptedState> {
      // The engine's key string for the credential, when it has one, is kept rather than a new copy.
      const cred = event.kind === 'REVOKE' ? null : context?.key || credentialKey(event)
      // A presentation naming no credential changes nothing, not even the subject or the time.
      if (event.kind !== 'REVOKE' && event.kind !== 'ISSUE' && !cred) return { state, findings: NO_FINDINGS }
      const s: RevokedAcceptedState = state ?? { subject: null, revocations: NO_REVOCATIONS, buckets: [], nets: [], clients: [], creds: [], last: 0 }
      if (!Array.isArray(s.creds)) upgrade(s)
      // Buckets kept until now are those newer than this; the records' latest presentations are held to it too.
      const horizon = s.last - config.lateRevokeMs
      // A user's slot is named by the subject (subjectOf): only other slots keep one.
      if (!slot.startsWith('u:')) s.subject ??= event.subject ?? null
      if (event.ts > s.last) s.last = event.ts
      let violations: Violation[] | null = null

      if (event.kind === 'REVOKE') {
        if (s.revocations.some((r) => r.id === event.event_id)) return { state: s, findings: NO_FINDINGS }
        const use = read.useOf(event, context)
        const rev: Revocation = {
          id: event.event_id, ts: event.ts, scope: scopeOf(event)!, session_id: event.session_id ?? null, token_fp: event.token_fp ?? null, jti: event.jti ?? null,
          client_id: event.client_id ?? null, use, reissued: null, latency: {}, hits: {},
        }
        s.revocations = [...s.revocations, rev].sort((a, b) => a.ts - b.ts).slice(-config.maxRevocations)
        // The owner asked for the revocation from here: this network and client are theirs.
        s.nets = rememberFirst(s.nets, use.net, event.ts, config.maxNetworks)
        s.clients = rememberFirst(s.clients, use.client, event.ts, config.maxNetworks)
        violations = match(rev, withRecorded(s, slot, context, horizon), s)
      } else if (event.kind === 'ISSUE') {
        if (cred && event.action === 'login') {
          // A fresh login after a user-wide revocation is a new credential even when the server kept the id.
          if (s.revocations.some((r) => r.ts < event.ts && (firstSeen(s.creds, cred) ?? Infinity) < r.ts)) s.creds = setSeen(s.creds, cred, event.ts)
          for (const r of s.revocations) {
            if (r.scope === 'session' && r.session_id !== null && r.session_id === event.session_id && event.ts > r.ts && (r.reissued === null || event.ts < r.reissued)) r.reissued = event.ts
          }
        }
        if (cred) s.creds = rememberFirst(s.creds, cred, event.ts, 2 * config.maxBuckets)
        s.nets = rememberFirst(s.nets, networkOf(event, context), event.ts, config.maxNetworks)
        s.clients = rememberFirst(s.clients, clientFor(event, context), event.ts, config.maxNetworks)
      } else {
        s.creds = rememberFirst(s.creds, cred!, event.ts, 2 * config.maxBuckets)
        const net = networkOf(event, context)
        const client = clientFor(event, context)
        if (event.result === 'OK') {
          s.nets = rememberFirst(s.nets, net, event.ts, config.maxNetworks)
          s.clients = rememberFirst(s.clients, client, event.ts, config.maxNetworks)
        }
        const b = leftToRecord(event, slot, cred!, context)
          ? recordedAsLatest(s, event, slot, cred!, net, client, context!, config, intern)
          : record(s, event, cred!, net, client, context, config, intern)
        // null: no revocation to match it against.
        if (b !== null) for (const rev of s.revocations) {
          const v = matchPresentation(rev, b, s, event.ts, event.event_id)
          if (v) {
            violations ??= []
            violations.push(v)
          }
        }
      }

      let findings: Finding[] | null = null
      if (violations !== null) {
        for (const v of violations) {
          const { score, reasons, confirmed } = judge(v, s)
          const key = incidentKey(v)
          if (score <= (v.rev.hits[key] ?? 0)) continue
          v.rev.hits[key] = score
          findings ??= []
          findings.push(toFinding(s, slot, v, key, score, reasons, confirmed, config))
        }
      }
      dropStale(s, config)
      return { state: s, findings: findings ?? NO_FINDINGS }
    },
    expiry: (state) => {
      let expiry = state.last + config.lateRevokeMs
      for (const r of state.revocations) if (r.ts + config.rememberMs > expiry) expiry = r.ts + config.rememberMs
      return expiry
    },
  }
}

/**
 * Whether a presentation is left to the engine's record of its credential: an accepted one in the user's slot
 * that becomes the record's latest (events within the lateness may arrive out of order), of a credential the
 * record knows as this user's.
 */
function leftToRecord(event: AuthEvent, slot: string, cred: string, context: CredentialContext | undefined): boolean {
  // A presentation in a user's slot names its subject (presentationSlot): it is the slot's.
  return context !== undefined && context.key === cred && event.result === 'OK' && slot.startsWith('u:') && !(event.ts < context.lastTs) &&
    context.hasSubject(event.subject)
}

/** The record's latest presentation when it stands for a presentation of this user's slot (leftToRecord). */
function recordedLatest(context: CredentialContext, s: RevokedAcceptedState, slot: string): { use: RecordedUse; presented: Presentation } | null {
  const presented = context.lastPresentation()
  if (presented === null || !presented.ok || !presented.named || !context.hasSubject(subjectOf(s, slot))) return null
  return { use: context.last()!, presented }
}

/**
 * A presentation left to the record (leftToRecord). The record's latest presentation, which it replaces there,
 * becomes a bucket unless it is like this one. Returns this presentation as a bucket that is not kept, for
 * matching against revocations already known (none: null).
 */
function recordedAsLatest(
  s: RevokedAcceptedState, event: AuthEvent, slot: string, cred: string, net: string | null, client: string | null, context: CredentialContext,
  config: RevokedAcceptedConfig, intern: (s: string | null | undefined) => string | null,
): Bucket | null {
  if (!context.likeLastPresentation(event)) {
    const latest = recordedLatest(context, s, slot)
    if (latest !== null) keep(s, bucketOf(cred, latest.use, latest.presented, intern), config)
  }
  if (s.revocations.length === 0) return null
  return {
    cred, session_id: event.session_id ?? null, token_fp: event.token_fp ?? null, jti: event.jti ?? null, validator: intern(validatorOf(event))!, ok: true, net, client,
    stateless: isStateless(event.token_kind, event.action === 'introspect'), issued_at: event.issued_at ?? null, client_id: intern(event.client_id),
    first: event.ts, first_id: event.event_id, last: event.ts, use: sharedUseOf(event, context),
  }
}

/** A recorded presentation as a bucket of its own. */
function bucketOf(cred: string, use: RecordedUse, p: Presentation, intern: (s: string | null | undefined) => string | null): Bucket {
  return {
    cred, session_id: cred.startsWith('s:') ? cred.slice(2) : null, token_fp: p.token_fp, jti: p.jti, validator: intern(p.validator)!, ok: p.ok, net: use.net,
    client: use.client, stateless: isStateless(p.token_kind, p.introspected), issued_at: p.issued_at, client_id: intern(p.client_id),
    first: use.ts, first_id: use.id, last: use.ts, use: plainUse(use),
  }
}

/** The buckets, and the records' latest presentations of the user's credentials not older than `horizon`. */
function withRecorded(s: RevokedAcceptedState, slot: string, context: CredentialContext | undefined, horizon: number): Bucket[] {
  if (context === undefined || !slot.startsWith('u:')) return s.buckets
  const out = s.buckets.slice()
  for (let i = 0; i < s.creds.length; i += 2) {
    const cred = s.creds[i] as string
    const record = context.other(cred)
    const latest = record && recordedLatest(record, s, slot)
    if (latest && latest.use.ts >= horizon) out.push(bucketOf(cred, latest.use, latest.presented, (x) => x ?? null))
  }
  return out
}

/** Adds a bucket, merged into the one of the same presentations if there is one (as `record` does). */
function keep(s: RevokedAcceptedState, c: Bucket, config: RevokedAcceptedConfig): void {
  for (const b of s.buckets) {
    if (b.ok !== c.ok || b.stateless !== c.stateless || b.session_id !== c.session_id || b.token_fp !== c.token_fp || b.jti !== c.jti || b.net !== c.net || b.validator !== c.validator) continue
    if (c.first < b.first) { b.first = c.first; b.first_id = c.first_id }
    if (c.last >= b.last) { b.last = c.last; b.use = c.use }
    return
  }
  s.buckets = appended(s.buckets, c)
  if (s.buckets.length > config.maxBuckets) {
    s.buckets.sort((x, y) => y.last - x.last)
    s.buckets.length = config.maxBuckets
  }
}

/** A self-contained access or ID token checked locally (see sessionRevokesAccessTokens). */
const isStateless = (kind: string | null | undefined, introspected: boolean) => (kind === 'access' || kind === 'id') && !introspected

/** The one slot a presentation (or an ISSUE) is recorded in. */
function presentationSlot(event: AuthEvent): string | null {
  if (event.subject) return 'u:' + event.subject
  if (event.session_id) return 's:' + event.session_id
  return event.token_fp ? 't:' + event.token_fp : null
}

function scopeOf(event: AuthEvent): RevokeScope | null {
  if (event.revoke_scope) return event.revoke_scope
  // A logout without a scope ends its session; a bare token revocation (RFC 7009) ends the token.
  if (event.session_id) return 'session'
  if (event.token_fp) return 'token'
  return event.subject ? 'user' : null
}

/** The user's slot, and the slots of subject-less presentations of the revoked session or token. */
function revocationSlots(event: AuthEvent): string[] {
  const scope = scopeOf(event)
  if (scope === null) return []
  const out = event.subject ? ['u:' + event.subject] : []
  if (scope === 'session' || scope === 'token') {
    if (event.session_id) out.push('s:' + event.session_id)
    if (event.token_fp) out.push('t:' + event.token_fp)
  }
  return out
}

function record(
  s: RevokedAcceptedState, event: AuthEvent, cred: string, net: string | null, client: string | null, context: CredentialContext | undefined,
  config: RevokedAcceptedConfig, intern: (s: string | null | undefined) => string | null,
): Bucket {
  const validator = validatorOf(event)
  const ok = event.result === 'OK'
  const stateless = isStateless(event.token_kind, event.action === 'introspect')
  const sid = event.session_id ?? null
  const fp = event.token_fp ?? null
  const jti = event.jti ?? null
  for (const b of s.buckets) {
    // Cheap comparisons first: most buckets of a user differ by outcome or session.
    if (b.ok !== ok || b.stateless !== stateless || b.session_id !== sid || b.token_fp !== fp || b.jti !== jti || b.net !== net || b.validator !== validator) continue
    if (event.ts < b.first) { b.first = event.ts; b.first_id = event.event_id }
    // The bucket's latest use is its own object (evidence copies it), so it is overwritten, not replaced.
    if (event.ts >= b.last) {
      b.last = event.ts
      overwriteUse(b.use, event, net, client, context ? context.eventPlace : placeOf(event), context ? context.eventUserAgent : event.user_agent ?? null)
    }
    return b
  }
  const b: Bucket = {
    cred, session_id: sid, token_fp: fp, jti, validator: intern(validator)!, ok, net, client, stateless,
    issued_at: event.issued_at ?? null, client_id: intern(event.client_id),
    first: event.ts, first_id: event.event_id, last: event.ts, use: context ? sharedUseOf(event, context) : useOf(event, net),
  }
  s.buckets = appended(s.buckets, b)
  if (s.buckets.length > config.maxBuckets) {
    s.buckets.sort((x, y) => y.last - x.last)
    s.buckets.length = config.maxBuckets
  }
  return b
}

/** Forgets presentations too old for a late revocation and revocations past memory, in place. */
function dropStale(s: RevokedAcceptedState, config: RevokedAcceptedConfig): void {
  const horizon = s.last - config.lateRevokeMs
  let kept = 0
  for (const b of s.buckets) if (b.last >= horizon) s.buckets[kept++] = b
  s.buckets.length = kept
  const remembered = s.last - config.rememberMs
  if (s.revocations.some((r) => r.ts < remembered)) s.revocations = s.revocations.filter((r) => r.ts >= remembered)
}

/** One detection per revocation and what it revoked: the token for a token revocation, else the session. */
function incidentKey(v: Violation): string {
  return v.rev.scope === 'token' && v.bucket.token_fp ? 't:' + v.bucket.token_fp : v.bucket.cred
}

/** The subject a slot's state is about: a user's slot is named by it. */
function subjectOf(s: RevokedAcceptedState, slot: string): string | null {
  return s.subject ?? (slot.startsWith('u:') ? slot.slice(2) : null)
}

function toFinding(
  s: RevokedAcceptedState, slot: string, v: Violation, key: string, score: number, reasons: string[], confirmed: boolean, config: RevokedAcceptedConfig,
): Finding {
  const b = v.bucket
  const accepted: Use = { ...b.use, id: v.atId, ts: v.at }
  return {
    detector: 'revoked_accepted',
    key,
    incident_ts: v.rev.ts,
    severity: severityFor(score, config.thresholds),
    score,
    confirmed,
    subject: subjectOf(s, slot),
    session_id: b.session_id,
    token_fp: b.token_fp,
    summary: `${b.cred.startsWith('s:') ? 'session' : 'token'} accepted by ${b.validator} ${Math.round((v.at - v.rev.ts) / 1000)} s after its ${v.rev.scope} revocation`,
    evidence: evidenceOf([v.rev.use, accepted], reasons),
    first_malicious_ts: v.at,
  }
}

function firstSeen(list: FirstSeen, key: string): number | undefined {
  for (let i = 0; i < list.length; i += 2) if (list[i] === key) return list[i + 1] as number
  return undefined
}

/** Keys first seen at or before `ts`, in the order they were added. */
function seenBy(list: FirstSeen, ts: number): string[] {
  const out: string[] = []
  for (let i = 0; i < list.length; i += 2) if ((list[i + 1] as number) <= ts) out.push(list[i] as string)
  return out
}

/** Sets a key's time (added at the end when new), unbounded: a login that makes a credential new again. */
function setSeen(list: FirstSeen, key: string, ts: number): FirstSeen {
  for (let i = 0; i < list.length; i += 2) if (list[i] === key) { list[i + 1] = ts; return list }
  return appended(appended(list, key), ts)
}

/**
 * Remembers `key` at its earliest time, bounded; returns the list (a new one when it grew). Past the bound it
 * forgets the most recently first-seen keys (the last added among equal times): the old ones are the owner's,
 * the reference a revocation is judged against (as signals.ts rememberFirst does for objects).
 */
function rememberFirst(list: FirstSeen, key: string | null, ts: number, max: number): FirstSeen {
  if (key === null) return list
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] !== key) continue
    if ((list[i + 1] as number) > ts) list[i + 1] = ts
    return list
  }
  const out = appended(appended(list, key), ts)
  while (out.length / 2 > max) {
    let newest = 0
    for (let i = 2; i < out.length; i += 2) if ((out[i + 1] as number) >= (out[newest + 1] as number)) newest = i
    out.splice(newest, 2)
  }
  return out
}

/** A state checkpointed when first-seen maps were objects. */
function upgrade(s: RevokedAcceptedState): void {
  const listOf = (map: unknown): FirstSeen => (Array.isArray(map) ? map : Object.entries(map as Record<string, number>).flat())
  s.nets = listOf(s.nets)
  s.clients = listOf(s.clients)
  s.creds = listOf(s.creds)
}
