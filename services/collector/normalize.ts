import { createHash } from 'node:crypto'
import type { AuthEvent } from '../../schemas/model.js'
import type { Fingerprinter } from '../shared/fingerprint.js'
import type { DraftEvent } from './formats/types.js'
import { readJwtClaims } from './jwt.js'
import { describeAddress } from './network.js'
import { createUserAgentParser } from './user-agent.js'

/** Place and network facts for an address, from a geo/ASN database; absent when unknown. */
/** `knownAsn` is the source's own ASN, when it gave one: provider flags follow it rather than the database's. */
/** `placeKnown`: the source gave a place too; with `knownAsn` as well, only `net_flags` is looked up. */
export type AddressEnricher = (ip: string, knownAsn?: number | null, placeKnown?: boolean) => Partial<Pick<AuthEvent, 'asn' | 'asn_org' | 'country' | 'city' | 'lat' | 'lon' | 'geo_accuracy_km' | 'net_flags'>> | undefined

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
    const token = draft.token
    // Built field by field in one fixed order: every event has the same shape, which keeps the hot path
    // monomorphic, and nothing a parser added by mistake (a raw header, say) can ride along.
    const event: AuthEvent = {
      event_id: draft.event_id ?? deriveEventId(draft.source.format ?? draft.source.system, input, index),
      kind: draft.kind, action: draft.action, ts: draft.ts, ingest_ts: deps.now(),
      source: { system: draft.source.system, tenant: draft.source.tenant ?? null, format: draft.source.format ?? null },
      subject: draft.subject ?? null, session_id: draft.session_id ?? null, token_fp: draft.token_fp ?? null,
      token_kind: draft.token_kind ?? null, parent_token_fp: draft.parent_token_fp ?? null, jti: draft.jti ?? null,
      client_id: draft.client_id ?? null, scopes: draft.scopes ?? [], amr: draft.amr ?? [], acr: draft.acr ?? null,
      issued_at: draft.issued_at ?? null, expires_at: draft.expires_at ?? null, revoke_scope: draft.revoke_scope ?? null,
      claims_unverified: draft.claims_unverified ?? false,
      ip: draft.ip ?? null, ip_prefix: null, asn: draft.asn ?? null, asn_org: draft.asn_org ?? null,
      country: draft.country ?? null, city: draft.city ?? null, lat: draft.lat ?? null, lon: draft.lon ?? null,
      geo_accuracy_km: draft.geo_accuracy_km ?? null, net_flags: draft.net_flags ?? [],
      user_agent: draft.user_agent ?? null, ua_family: draft.ua_family ?? null, os_family: draft.os_family ?? null,
      device_type: draft.device_type ?? null, device_id: draft.device_id ?? null, ja4: draft.ja4 ?? null,
      dpop_jkt: draft.dpop_jkt ?? null, validator: draft.validator ?? null, method: draft.method ?? null,
      route: draft.route ?? null, status: draft.status ?? null, result: draft.result ?? null,
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
    if (draft.parent_token) event.parent_token_fp ??= deps.fingerprint(draft.parent_token)
    const address = describeAddress(event.ip)
    if (address) {
      event.ip = address.ip
      event.ip_prefix = address.prefix
      const facts = deps.enrichAddress?.(address.ip, event.asn, event.country != null || event.lat != null)
      if (facts) {
        if (event.asn == null) {
          event.asn = facts.asn ?? null
          event.asn_org ??= facts.asn_org ?? null
        }
        // A place is taken whole from one source: the database's accuracy says nothing of the source's coordinates.
        if (event.country == null && event.lat == null) {
          event.country = facts.country ?? null
          event.city = facts.city ?? null
          event.lat = facts.lat ?? null
          event.lon = facts.lon ?? null
          event.geo_accuracy_km = facts.geo_accuracy_km ?? null
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

function union(a: string[], b: string[], c: string[]): string[] {
  if (b.length === 0 && c.length === 0) return a
  return [...new Set([...a, ...b, ...c])]
}
