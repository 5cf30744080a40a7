import { isIPv4, isIPv6 } from 'node:net'

// CIDR containment for suppression rules, IPv4 and IPv6, on BigInt prefixes built once.

function toBigInt(ip: string): { value: bigint; bits: 32 | 128 } | undefined {
  if (isIPv4(ip)) {
    return { value: ip.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n), bits: 32 }
  }
  if (!isIPv6(ip)) return undefined
  let text = ip.toLowerCase()
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4) {
    const n = toBigInt(v4[1]!)!.value
    text = text.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const left = head ? head.split(':') : []
  const right = tail !== undefined && tail !== '' ? tail.split(':') : []
  const zeros = tail !== undefined ? 8 - left.length - right.length : 0
  const groups = [...left, ...Array<string>(zeros).fill('0'), ...right]
  if (groups.length !== 8) return undefined
  return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 }
}

export interface CidrMatcher {
  /** False when any range did not parse. */
  valid: boolean
  contains(ip: string): boolean
}

export function createCidrMatcher(ranges: readonly string[]): CidrMatcher {
  let valid = true
  const nets = ranges.flatMap((range) => {
    const [address, lengthText] = range.split('/')
    const parsed = address ? toBigInt(address) : undefined
    const length = lengthText === undefined ? parsed?.bits : Number(lengthText)
    if (!parsed || length === undefined || !Number.isInteger(length) || length < 0 || length > parsed.bits) {
      valid = false
      return []
    }
    const shift = BigInt(parsed.bits - length)
    return [{ bits: parsed.bits, shift, prefix: parsed.value >> shift }]
  })
  return {
    valid,
    contains(ip) {
      const parsed = toBigInt(ip)
      if (!parsed) return false
      return nets.some((n) => n.bits === parsed.bits && parsed.value >> n.shift === n.prefix)
    },
  }
}
