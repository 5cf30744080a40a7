import { createMultiNetworkDetector, DEFAULT_MULTI_NETWORK } from './multi-network.js'
import type { Detector } from './types.js'

export interface DetectorsConfig {
  windowMs: number
}

/** The detector set the pipeline and the backtest both run. */
export function createDetectors(config: DetectorsConfig): Detector<unknown>[] {
  return [createMultiNetworkDetector({ ...DEFAULT_MULTI_NETWORK, windowMs: config.windowMs }) as Detector<unknown>]
}
