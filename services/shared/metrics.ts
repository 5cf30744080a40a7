import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** One registry per process, passed to the services that count things; no global default registry. */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'sessionwatch_' })
  return {
    registry,
    collected: new Counter({ name: 'sessionwatch_collector_records_total', help: 'Collector output by destination', labelNames: ['destination'], registers: [registry] }),
    detected: new Counter({ name: 'sessionwatch_detections_total', help: 'Detections emitted', labelNames: ['detector', 'severity'], registers: [registry] }),
    detectorEvents: new Counter({ name: 'sessionwatch_detector_events_total', help: 'Events scored by the detector', registers: [registry] }),
    detectorSlots: new Gauge({ name: 'sessionwatch_detector_state_slots', help: 'State slots held by the detector', registers: [registry] }),
    detectorFrozenBytes: new Gauge({ name: 'sessionwatch_detector_frozen_bytes', help: 'Bytes held by frozen slot groups (their chunks, stale bytes included)', registers: [registry] }),
    detectorStateUnreadable: new Counter({ name: 'sessionwatch_detector_state_unreadable_total', help: 'Checkpoint records of detector.state that could not be restored (logged with their key; the slot starts afresh)', registers: [registry] }),
    detectorFrozenDiskBytes: new Gauge({ name: 'sessionwatch_detector_frozen_disk_bytes', help: 'Bytes of frozen slot groups written to their file on disk (SW_FROZEN_STORE=disk), stale bytes included', registers: [registry] }),
    detectorFrozenSpillFailures: new Gauge({ name: 'sessionwatch_detector_frozen_spill_failures', help: 'Chunks of frozen slot groups kept in memory because their file could not take them (a full disk)', registers: [registry] }),
    detectorFrozenGroups: new Gauge({ name: 'sessionwatch_detector_frozen_groups', help: 'Slot groups whose state is frozen into bytes (past the hot allowance)', registers: [registry] }),
    detectorHotGroupsPerPartition: new Gauge({ name: 'sessionwatch_detector_hot_groups_per_partition', help: 'Slot groups each owned partition may keep as objects: SW_HOT_GROUPS shared by the partitions this worker owns', registers: [registry] }),
    sinkRows: new Counter({ name: 'sessionwatch_sink_rows_total', help: 'Rows inserted into ClickHouse', labelNames: ['table'], registers: [registry] }),
    sinkFlushSeconds: new Histogram({ name: 'sessionwatch_sink_flush_seconds', help: 'ClickHouse insert time per flush', registers: [registry] }),
    feedbackPatterns: new Gauge({ name: 'sessionwatch_detector_feedback_patterns', help: 'Benign patterns from analyst feedback in force in the detector', registers: [registry] }),
    feedbackLowered: new Counter({ name: 'sessionwatch_detector_feedback_lowered_total', help: 'Detections lowered by a benign pattern from analyst feedback', labelNames: ['detector'], registers: [registry] }),
    deliveries: new Counter({ name: 'sessionwatch_alert_deliveries_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'], registers: [registry] }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
