import UAParser from 'ua-parser-js'
import { createRecentCache } from './recent-cache.js'

export interface ClientInfo {
  ua_family?: string
  os_family?: string
  device_type?: string
}

// HTTP libraries and headless browsers: ua-parser-js reports most of them as unknown, and a
// detector needs to tell "a script" from "a browser" (phishing proxies and cookie replays use these).
const AUTOMATION = /\b(curl|wget|python-requests|python-urllib|aiohttp|httpx|go-http-client|okhttp|java|apache-httpclient|axios|node-fetch|undici|libwww-perl|postmanruntime|insomnia|powershell|headlesschrome|phantomjs|puppeteer|playwright|scrapy)\b/i

/** Parses user agents through a bounded cache (5k to 10k agents): a tenant has few distinct agents and many requests. */
export function createUserAgentParser(cacheSize = 5_000): (ua: string) => ClientInfo {
  const cache = createRecentCache<string, ClientInfo>(cacheSize)
  return function parseUserAgent(ua) {
    const hit = cache.get(ua)
    if (hit) return hit
    const info = describe(ua)
    cache.set(ua, info)
    return info
  }
}

function describe(ua: string): ClientInfo {
  const automation = AUTOMATION.exec(ua)
  const r = new UAParser(ua).getResult()
  if (automation && !/mozilla\/5\.0 \((windows|macintosh|x11|linux; android|iphone|ipad)/i.test(ua.replace(/headlesschrome/i, ''))) {
    return { ua_family: automation[1]!.toLowerCase(), os_family: r.os.name, device_type: 'automation' }
  }
  if (automation && /headlesschrome|phantomjs|puppeteer|playwright/i.test(ua)) {
    return { ua_family: automation[1]!.toLowerCase(), os_family: r.os.name, device_type: 'automation' }
  }
  return {
    ua_family: r.browser.name,
    os_family: r.os.name,
    device_type: r.device.type ?? (r.browser.name ? 'desktop' : undefined),
  }
}
