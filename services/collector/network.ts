import { isIPv6 } from 'node:net'

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
  if (ip.charCodeAt(0) === 58 && ip.toLowerCase().startsWith('::ffff:') && ipv4Number(ip.slice(7)) >= 0) ip = ip.slice(7)
  const v4 = ipv4Number(ip)
  if (v4 >= 0) {
    const a = v4 >>> 24
    const b = (v4 >>> 16) & 255
    return { ip, prefix: `${a}.${b}.${(v4 >>> 8) & 255}.0/24`, flags: ipv4Flags(a, b) }
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

/**
 * A dotted-quad IPv4 literal as a number, or -1: exactly what node:net's isIPv4 accepts (four decimal
 * octets up to 255, no leading zeros), read in one pass instead of a regular expression and a split.
 */
export function ipv4Number(s: string): number {
  let value = 0
  let octet = 0
  let digits = 0
  let dots = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1
      value = value * 256 + octet
      dots++
      octet = 0
      digits = 0
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1
      octet = octet * 10 + (c - 48)
      if (octet > 255) return -1
      digits++
    } else {
      return -1
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : -1
}

function ipv4Flags(a: number, b: number): string[] {
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
