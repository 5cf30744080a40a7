// Networks that say something about who is behind an address. A hosting or VPN address is no evidence of
// a place (detectors skip it as a location) but is evidence in itself when a browser session suddenly
// appears there. Shipped defaults are well-known provider ASNs; users extend or replace them with a JSON
// file (SW_NETWORK_LISTS_FILE) of the same shape, with CIDR ranges as well.

export interface NetworkLists {
  /** Flag → autonomous system numbers. */
  asns: Record<string, number[]>
  /** Flag → CIDR ranges (IPv4 or IPv6). */
  cidrs: Record<string, string[]>
  /** false: the file's lists replace the shipped defaults instead of adding to them. */
  extendDefaults?: boolean
}

export const DEFAULT_NETWORK_LISTS: NetworkLists = {
  asns: {
    // Cloud and hosting providers: where infostealer buyers and phishing proxies run their replays.
    hosting: [
      16509, 14618, 8987, // Amazon
      15169, 396982, 19527, // Google Cloud
      8075, 8068, // Microsoft Azure
      14061, // DigitalOcean
      16276, // OVH
      24940, 213230, // Hetzner
      63949, // Akamai Linode
      20473, // Vultr (Choopa)
      31898, // Oracle Cloud
      45102, 37963, // Alibaba Cloud
      132203, // Tencent Cloud
      12876, // Scaleway
      51167, // Contabo
      60781, 28753, 16265, // LeaseWeb
      46606, // Unified Layer
      36352, // ColoCrossing
      53667, // FranTech / BuyVM
      202425, // IP Volume
    ],
    // Commercial VPN egress hosting: a VPN switched on mid-session moves the session here.
    vpn: [
      9009, // M247 (hosts many VPN providers)
      60068, 212238, // Datacamp / CDN77 (NordVPN, ProtonVPN, Surfshark exits)
      136787, // TEFINCOM (NordVPN)
      209103, // Proton AG
      39351, // 31173 Services (Mullvad)
      147049, // PacketHub
    ],
    // Privacy relays: many unrelated users share these egresses.
    relay: [
      36183, // Akamai, iCloud Private Relay
      13335, // Cloudflare (WARP)
    ],
  },
  cidrs: { hosting: [], vpn: [], relay: [], corporate: [] },
}

interface Cidr {
  flag: string
  v4?: { network: number; mask: number }
  v6?: { network: bigint; mask: bigint }
}

export function compileNetworkLists(lists: NetworkLists) {
  const byAsn = new Map<number, string[]>()
  for (const [flag, asns] of Object.entries(lists.asns)) {
    for (const asn of asns) byAsn.set(asn, [...(byAsn.get(asn) ?? []), flag])
  }
  const cidrs: Cidr[] = Object.entries(lists.cidrs).flatMap(([flag, ranges]) => ranges.map((r) => parseCidr(flag, r)))
  return {
    hasCidrs: cidrs.length > 0,
    flagsForAsn(asn: number): string[] {
      return byAsn.get(asn) ?? []
    },
    flagsForV4(address: number): string[] {
      return cidrs.filter((c) => c.v4 && ((address & c.v4.mask) >>> 0) === c.v4.network).map((c) => c.flag)
    },
    flagsForV6(address: bigint): string[] {
      return cidrs.filter((c) => c.v6 && (address & c.v6.mask) === c.v6.network).map((c) => c.flag)
    },
  }
}

export function mergeNetworkLists(base: NetworkLists, extra: NetworkLists): NetworkLists {
  if (extra.extendDefaults === false) return extra
  const merge = <T>(a: Record<string, T[]>, b: Record<string, T[]>) =>
    Object.fromEntries([...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, [...(a[k] ?? []), ...(b[k] ?? [])]]))
  return { asns: merge(base.asns, extra.asns ?? {}), cidrs: merge(base.cidrs, extra.cidrs ?? {}) }
}

function parseCidr(flag: string, text: string): Cidr {
  const [address, bitsText] = text.split('/')
  const bits = Number(bitsText)
  if (address && address.includes(':')) {
    if (!Number.isInteger(bits) || bits < 0 || bits > 128) throw new RangeError(`bad CIDR '${text}' in the ${flag} list`)
    const mask = bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - bits)) - 1n)
    return { flag, v6: { network: ipv6ToBigInt(address) & mask, mask } }
  }
  const parts = (address ?? '').split('.').map(Number)
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255) || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    throw new RangeError(`bad CIDR '${text}' in the ${flag} list`)
  }
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
  return { flag, v4: { network: (ipv4ToNumber(parts) & mask) >>> 0, mask } }
}

export function ipv4ToNumber(octets: number[]): number {
  return ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!
}

const HEX_GROUP = /^[0-9a-f]{1,4}$/i

/** Takes the canonical full form produced by describeAddress (eight groups), or any IPv6 literal. */
export function ipv6ToBigInt(address: string): bigint {
  const parts = address.split(':')
  if (parts.length === 8 && parts.every((part) => HEX_GROUP.test(part))) {
    // The full form, as describeAddress writes it: no URL parser needed.
    let value = 0n
    for (const part of parts) value = (value << 16n) + BigInt(parseInt(part, 16))
    return value
  }
  const host = new URL(`http://[${address}]/`).hostname.slice(1, -1)
  const [left, right] = host.split('::') as [string, string | undefined]
  const l = left ? left.split(':') : []
  const r = right === undefined ? [] : right ? right.split(':') : []
  const groups = [...l, ...new Array(8 - l.length - r.length).fill('0'), ...r]
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n)
}
