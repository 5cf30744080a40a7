import type { Config } from '../shared/config.js'
import { requireSecret } from '../shared/config.js'
import { createFingerprinter } from '../shared/fingerprint.js'
import { createAddressEnricher } from './enrich/enricher.js'
import { createNormalizer } from './normalize.js'

/** The collector's normaliser as configured: keyed fingerprints and, unless switched off, address enrichment. */
export function createConfiguredNormalizer(config: Config['collector'], now: () => number) {
  return createNormalizer({
    fingerprint: createFingerprinter(requireSecret(config.fingerprintKey, 'SW_FINGERPRINT_KEY')),
    enrichAddress: createAddressEnricher(config.enrichment),
    now,
  })
}
