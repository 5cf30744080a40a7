import { isIPv4, isIPv6 } from 'node:net'

export interface AddressInfo {
  ip: string
  prefix: string
  flags: string[]
}

/**
 * Normalises an address and derives the prefix detectors compare instead of raw addresses:
 * /24 for IPv4 and /64 for IPv6 (one customer LAN, where privacy addresses rotate).
 * Returns undefined for anything that is not an IP literal.
 */
export function describeAddress(raw: string | null | undefined): AddressInfo | undefined {
  if (!raw) return undefined
  let ip = raw.trim()
  if (ip.startsWith('[') && ip.includes(']')) ip = ip.slice(1, ip.indexOf(']'))
  const zone = ip.indexOf('%')
  if (zone > 0) ip = ip.slice(0, zone)
  if (ip.toLowerCase().startsWith('::ffff:') && isIPv4(ip.slice(7))) ip = ip.slice(7)
  if (isIPv4(ip)) {
    const octets = ip.split('.').map(Number) as [number, number, number, number]
    return { ip, prefix: `${octets[0]}.${octets[1]}.${octets[2]}.0/24`, flags: ipv4Flags(octets) }
  }
  if (isIPv6(ip)) {
    const groups = expandIPv6(ip)
    if (!groups) return undefined
    const canonical = groups.map((g) => g.toString(16)).join(':')
    const prefix = groups.slice(0, 4).map((g) => g.toString(16)).join(':') + '::/64'
    return { ip: canonical, prefix, flags: ipv6Flags(groups) }
  }
  return undefined
}

function ipv4Flags([a, b]: [number, number, number, number]): string[] {
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return ['private']
  if (a === 127) return ['loopback']
  if (a === 169 && b === 254) return ['link_local']
  if (a === 100 && b >= 64 && b <= 127) return ['cgnat']
  return []
}

function ipv6Flags(groups: number[]): string[] {
  const first = groups[0]!
  if (groups.every((g, i) => (i < 7 ? g === 0 : g === 1))) return ['loopback']
  if ((first & 0xfe00) === 0xfc00) return ['private']
  if ((first & 0xffc0) === 0xfe80) return ['link_local']
  return []
}

function expandIPv6(ip: string): number[] | undefined {
  // The WHATWG URL parser canonicalises IPv6 literals, embedded IPv4 included, into compressed hex.
  let host: string
  try {
    host = new URL(`http://[${ip}]/`).hostname.slice(1, -1)
  } catch {
    return undefined
  }
  const [left, right] = host.split('::') as [string, string | undefined]
  const parse = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : [])
  const l = parse(left)
  const r = right === undefined ? [] : parse(right)
  const groups = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r]
  return groups.length === 8 ? groups : undefined
}
