import { createHash } from 'node:crypto'
import type { AuthEvent } from '../../schemas/model.js'
import type { Fingerprinter } from '../shared/fingerprint.js'
import type { DraftEvent } from './formats/types.js'
import { readJwtClaims } from './jwt.js'
import { describeAddress } from './network.js'
import { createUserAgentParser } from './user-agent.js'

/** Place and network facts for an address, from a geo/ASN database; absent when unknown. */
export type AddressEnricher = (ip: string) => Partial<Pick<AuthEvent, 'asn' | 'asn_org' | 'country' | 'city' | 'lat' | 'lon' | 'geo_accuracy_km' | 'net_flags'>> | undefined

export interface NormalizerDeps {
  fingerprint: Fingerprinter
  enrichAddress?: AddressEnricher
  now: () => number
}

/**
 * Turns a parser's draft into the AuthEvent that leaves the collector: raw tokens become keyed
 * fingerprints and are dropped, unverified JWT claims fill gaps, a missing event_id is derived from the
 * input itself (so a replayed file yields the same ids), and the address is described and enriched.
 */
export function createNormalizer(deps: NormalizerDeps) {
  const parseUserAgent = createUserAgentParser()
  return function normalize(draft: DraftEvent, input: string, index: number): AuthEvent {
    const { token, parent_token, ...rest } = draft
    const event: AuthEvent = {
      ...rest,
      event_id: draft.event_id ?? deriveEventId(draft.source.format ?? draft.source.system, input, index),
      ingest_ts: deps.now(),
      scopes: draft.scopes ?? [],
      amr: draft.amr ?? [],
      net_flags: draft.net_flags ?? [],
      claims_unverified: draft.claims_unverified ?? false,
    }
    if (token) {
      event.token_fp ??= deps.fingerprint(token)
      const claims = readJwtClaims(token)
      if (claims) {
        event.claims_unverified = true
        event.subject ??= claims.sub
        event.session_id ??= claims.sid
        event.jti ??= claims.jti
        event.client_id ??= claims.client_id
        event.acr ??= claims.acr
        event.dpop_jkt ??= claims.cnf_jkt
        if (claims.exp !== undefined) event.expires_at ??= claims.exp * 1000
        if (claims.iat !== undefined) event.issued_at ??= claims.iat * 1000
        if (event.amr.length === 0 && claims.amr) event.amr = claims.amr
        if (event.scopes.length === 0 && claims.scope) event.scopes = claims.scope.split(' ').filter(Boolean)
      }
    }
    if (parent_token) event.parent_token_fp ??= deps.fingerprint(parent_token)
    const address = describeAddress(event.ip)
    if (address) {
      event.ip = address.ip
      event.ip_prefix = address.prefix
      const facts = deps.enrichAddress?.(address.ip)
      if (facts) {
        for (const [key, value] of Object.entries(facts)) {
          if (key !== 'net_flags' && value != null && (event as unknown as Record<string, unknown>)[key] == null) {
            ;(event as unknown as Record<string, unknown>)[key] = value
          }
        }
      }
      event.net_flags = union(event.net_flags, address.flags, facts?.net_flags ?? [])
    } else if (event.ip) {
      event.ip = null
    }
    if (event.user_agent) {
      const client = parseUserAgent(event.user_agent)
      event.ua_family ??= client.ua_family
      event.os_family ??= client.os_family
      event.device_type ??= client.device_type
    }
    return event
  }
}

function deriveEventId(format: string, input: string, index: number): string {
  return 'ev_' + createHash('sha256').update(format).update('\n').update(input).update('\n' + index).digest('hex').slice(0, 32)
}

function union(...lists: string[][]): string[] {
  const total = lists.reduce((n, l) => n + l.length, 0)
  return total === 0 ? [] : [...new Set(lists.flat())]
}
