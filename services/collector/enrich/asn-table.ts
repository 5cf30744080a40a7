import { readFileSync } from 'node:fs'

export interface AsnInfo {
  asn: number
  org: string
}

/**
 * Address → autonomous system, from the @ip-location-db/asn range files (RouteViews and DB-IP, CC BY 4.0):
 * sorted, non-overlapping `start,end,asn,org` rows, numeric addresses. Held as typed arrays and searched by
 * bisection: about 410k IPv4 and 100k IPv6 ranges in a few tens of MB. IPv6 ranges are compared on their
 * upper 64 bits, the routing part of an address; assignments smaller than a /64 are not told apart.
 */
export function loadAsnTable(ipv4NumCsv: string, ipv6NumCsv: string) {
  const v4 = loadRanges(ipv4NumCsv, (s) => Number(s))
  const v6 = loadRanges(ipv6NumCsv, (s) => BigInt(s) >> 64n)
  return {
    ranges: { ipv4: v4.count, ipv6: v6.count },
    lookupV4(address: number): AsnInfo | undefined {
      return find(v4, address)
    },
    /** `upper64` is the address shifted right by 64 bits. */
    lookupV6(upper64: bigint): AsnInfo | undefined {
      return find(v6, upper64)
    },
  }
}

export type AsnTable = ReturnType<typeof loadAsnTable>

interface Ranges<K> {
  count: number
  starts: K[] | Float64Array | BigUint64Array
  ends: K[] | Float64Array | BigUint64Array
  asns: Uint32Array
  orgIndex: Uint32Array
  orgs: string[]
}

function loadRanges<K extends number | bigint>(file: string, key: (text: string) => K): Ranges<K> {
  const text = readFileSync(file, 'utf8')
  const lines = text.split('\n')
  const bigint = typeof key('0') === 'bigint'
  const starts = bigint ? new BigUint64Array(lines.length) : new Float64Array(lines.length)
  const ends = bigint ? new BigUint64Array(lines.length) : new Float64Array(lines.length)
  const asns = new Uint32Array(lines.length)
  const orgIndex = new Uint32Array(lines.length)
  const orgs: string[] = []
  const orgIds = new Map<string, number>()
  let count = 0
  for (const line of lines) {
    const a = line.indexOf(',')
    const b = line.indexOf(',', a + 1)
    const c = line.indexOf(',', b + 1)
    if (a < 0 || b < 0 || c < 0) continue
    let org = line.slice(c + 1).trim()
    if (org.startsWith('"') && org.endsWith('"')) org = org.slice(1, -1).replaceAll('""', '"')
    let id = orgIds.get(org)
    if (id === undefined) {
      id = orgs.push(org) - 1
      orgIds.set(org, id)
    }
    ;(starts as unknown as K[])[count] = key(line.slice(0, a))
    ;(ends as unknown as K[])[count] = key(line.slice(a + 1, b))
    asns[count] = Number(line.slice(b + 1, c))
    orgIndex[count] = id
    count++
  }
  return { count, starts, ends, asns, orgIndex, orgs }
}

function find<K extends number | bigint>(r: Ranges<K>, address: K): AsnInfo | undefined {
  const starts = r.starts as unknown as K[]
  const ends = r.ends as unknown as K[]
  let lo = 0
  let hi = r.count - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    if (starts[mid]! <= address) lo = mid + 1
    else hi = mid - 1
  }
  if (hi < 0 || ends[hi]! < address) return undefined
  return { asn: r.asns[hi]!, org: r.orgs[r.orgIndex[hi]!]! }
}
