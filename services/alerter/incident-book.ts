import type { Detection } from '../../schemas/model.js'
import type { IncidentAction, IncidentCommand } from './commands.js'
import { incidentId } from './incident.js'
import type { AlertAction, AlertPolicy } from './policy.js'

/**
 * What the alerter remembers about an incident. Kept in memory, written after every batch to the compacted
 * topic auth.alerts.incidents (key: incident id) and read back at start, so a restarted alerter knows which
 * incidents were already paged and numbers their updates the same way.
 */
export interface IncidentState {
  id: string
  subject: string | null
  opened_ts: number
  last_ts: number
  /** Notices sent so far: 0 is the trigger, 1.. the updates. */
  seq: number
  /** detection_id@score of every detection already turned into a notice (bounded). */
  seen: string[]
  /** Highest action so far (page > ticket > log). */
  action: AlertAction
  /** Response actions ran (or were recorded, in monitor mode) for this incident. */
  responded: boolean
  /** Channels that were sent this incident's trigger; their later notices are updates. */
  notified: string[]
  /** What the incident is about, for notices without a detection (acknowledge, resolve). Absent in older states. */
  session_id?: string | null
  token_fp?: string | null
  /**
   * Per Slack endpoint posting through the Web API: where its first message of the incident is (channel, ts), so
   * later notices are replies in that thread. Persisted with the rest, so a restarted alerter keeps threading.
   */
  threads?: Record<string, { channel: string; ts: string }>
  /** Acknowledge and resolve commands already carried out: each runs once per incident. */
  commands?: Partial<Record<IncidentAction, { ts: number; by: string; reason: string }>>
}

export interface Notice {
  kind: 'trigger' | 'update'
  incident: IncidentState
  /** 0 for the trigger, then 1, 2, … per update. */
  seq: number
  /**
   * The trigger's key is the incident id (what README documented before updates existed); update n has
   * `<incident id>:<n>`. Both are deterministic from the ordered detections of the incident, so a replay
   * or a restarted alerter sends the same keys and the receiver drops what it already acted on.
   */
  idempotencyKey: string
  action: AlertAction
  escalated: boolean
}

const RANK: Record<AlertAction, number> = { log: 0, ticket: 1, page: 2 }
const MAX_SEEN = 256

export function createIncidentBook(options: AlertPolicy['incidents']) {
  const incidents = new Map<string, IncidentState>()
  const openByUser = new Map<string, string>()
  const dirty = new Set<string>()
  // Threads of incidents a rolled-back batch had opened: given back when the batch opens them again.
  const orphanThreads = new Map<string, NonNullable<IncidentState['threads']>>()
  // State of every incident touched since begin(), as it was before, to undo a batch that failed.
  const before = new Map<string, IncidentState | undefined>()
  const remember = (id: string) => {
    if (!before.has(id)) {
      const state = incidents.get(id)
      before.set(id, state ? { ...state, seen: [...state.seen], notified: [...state.notified], commands: state.commands && { ...state.commands } } : undefined)
    }
  }
  const windowMs = options.user_window_minutes * 60_000
  const ttlMs = options.ttl_days * 24 * 60 * 60_000

  function idFor(d: Detection): string {
    if (options.group_by === 'user' && d.subject) {
      const open = openByUser.get(d.subject)
      const state = open ? incidents.get(open) : undefined
      if (state && d.detected_ts - state.last_ts <= windowMs) return state.id
    }
    return incidentId(d)
  }

  return {
    incidents,
    /** The notice a detection makes, or undefined when the same detection (and score) was already sent. */
    apply(d: Detection, action: AlertAction): Notice | undefined {
      const id = idFor(d)
      const mark = `${d.detection_id}@${d.score}`
      let state = incidents.get(id)
      if (state?.seen.includes(mark)) return undefined
      remember(id)
      const kind = state ? 'update' : 'trigger'
      const escalated = !!state && RANK[action] > RANK[state.action]
      if (!state) {
        state = { id, subject: d.subject ?? null, session_id: d.session_id ?? null, token_fp: d.token_fp ?? null, opened_ts: d.detected_ts, last_ts: d.detected_ts, seq: 0, seen: [], action, responded: false, notified: [] }
        const threads = orphanThreads.get(id)
        if (threads) {
          state.threads = threads
          orphanThreads.delete(id)
        }
        incidents.set(id, state)
      } else {
        state.seq++
        state.last_ts = Math.max(state.last_ts, d.detected_ts)
        if (escalated) state.action = action
      }
      state.seen.push(mark)
      if (state.seen.length > MAX_SEEN) state.seen.shift()
      if (d.subject) openByUser.set(d.subject, id)
      dirty.add(id)
      return { kind, incident: state, seq: state.seq, idempotencyKey: state.seq === 0 ? id : `${id}:${state.seq}`, action, escalated }
    },
    /**
     * The notice as one channel gets it: its first notice of an incident is its trigger (key: the incident id),
     * whatever the incident's sequence number (a ticket that later pages reaches a page-only channel as a
     * trigger); later ones are updates.
     */
    forChannel(notice: Notice, channel: string): Notice {
      const state = notice.incident
      if (state.notified.includes(channel)) return notice.kind === 'update' ? notice : { ...notice, kind: 'update', idempotencyKey: `${state.id}:${notice.seq}` }
      remember(state.id)
      state.notified.push(channel)
      dirty.add(state.id)
      return { ...notice, kind: 'trigger', idempotencyKey: state.id }
    },
    markResponded(id: string) {
      const state = incidents.get(id)
      if (state) {
        remember(id)
        state.responded = true
        dirty.add(id)
      }
    },
    /**
     * Remembers where a Slack endpoint's first message of the incident is, for its thread replies. Only the first:
     * replies name the thread's parent, never another reply (Slack, chat.postMessage `thread_ts`).
     */
    setThread(id: string, endpoint: string, thread: { channel: string; ts: string }) {
      const state = incidents.get(id)
      if (!state || state.threads?.[endpoint]) return
      state.threads = { ...state.threads, [endpoint]: thread }
      dirty.add(id)
    },
    /**
     * Records an acknowledge or resolve; false when it adds nothing: the same action was carried out already, or
     * an acknowledge arrives for a resolved incident.
     */
    markCommand(command: IncidentCommand): boolean {
      const state = incidents.get(command.incident_id)
      if (!state || state.commands?.[command.action] || (command.action === 'acknowledge' && state.commands?.resolve)) return false
      remember(state.id)
      state.commands = { ...state.commands, [command.action]: { ts: command.ts, by: command.by, reason: command.reason } }
      dirty.add(state.id)
      return true
    },
    begin() {
      before.clear()
    },
    /**
     * Undoes every change since begin(), except Slack threads: those messages exist whether or not the batch is
     * done again, and a redone trigger must reply in its thread rather than start a second one.
     */
    rollback() {
      for (const [id, state] of before) {
        const threads = incidents.get(id)?.threads
        if (state) incidents.set(id, threads ? { ...state, threads } : state)
        else {
          incidents.delete(id)
          if (threads) orphanThreads.set(id, threads)
        }
        dirty.delete(id)
      }
      before.clear()
    },
    /** Incidents changed since the last call, for the compacted topic. */
    takeDirty(): IncidentState[] {
      const out = [...dirty].flatMap((id) => incidents.get(id) ?? [])
      dirty.clear()
      return out
    },
    restore(state: IncidentState) {
      state.notified ??= []
      incidents.set(state.id, state)
      const current = state.subject ? openByUser.get(state.subject) : undefined
      if (state.subject && (!current || (incidents.get(current)?.last_ts ?? 0) <= state.last_ts)) openByUser.set(state.subject, state.id)
    },
    /** Forgets incidents idle for longer than the ttl; returns their ids (tombstoned in the topic). */
    expire(nowMs: number): string[] {
      const gone: string[] = []
      for (const [id, state] of incidents) {
        if (nowMs - state.last_ts > ttlMs) {
          incidents.delete(id)
          if (state.subject && openByUser.get(state.subject) === id) openByUser.delete(state.subject)
          gone.push(id)
        }
      }
      return gone
    },
  }
}

export type IncidentBook = ReturnType<typeof createIncidentBook>
