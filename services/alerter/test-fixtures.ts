import type { Detection } from '../../schemas/model.js'

/** A detection for unit tests; every field can be overridden. */
export function sampleDetection(overrides: Partial<Detection> = {}): Detection {
  return {
    detection_id: 'det_1', detector: 'multi_network', severity: 'page', score: 0.9, confirmed: true,
    subject: 'u1@acme.example', session_id: 's-1', token_fp: null, summary: 'session used from 2 networks',
    evidence: { event_ids: ['e1', 'e2'], ips: ['73.14.86.31', '167.99.189.65'], prefixes: [], asns: [7922, 14061], places: ['US', 'NL'], user_agents: ['Mozilla/5.0', 'python-requests/2.32'], times: [1_700_000_000_000], reasons: ['2 networks in 5 min'] },
    first_malicious_ts: 1_700_000_000_000, detected_ts: 1_700_000_060_000,
    ...overrides,
  }
}
