/** Groups IPv6 /64s into their /48 (privacy addresses and prefix delegation move within a site). */
export function widerPrefixOf(prefix: string): string {
  if (prefix.endsWith('::/64')) return prefix.split(':').slice(0, 3).join(':') + '::/48'
  return prefix
}
