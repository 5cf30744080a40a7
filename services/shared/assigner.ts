// Co-partitioned assignment for consumer groups that read several topics keyed alike (the detector reads
// auth.issue, auth.revoke and auth.validate, all keyed by subject with one partition count): partition p of
// every topic goes to the same member, so one worker sees all of a user's events and owns that partition's
// detector state. kafkajs's own round-robin assigner deals topic-partitions out one by one across members and
// would split a user's logins, revocations and requests between workers.
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs'

export const CO_PARTITIONED = 'SessionwatchCoPartitioned'

/**
 * Which member gets which partitions: partition numbers are dealt round-robin over the members sorted by id,
 * and a member gets that partition of every topic it subscribes to. Pure, for the tests.
 */
export function coPartition(members: { memberId: string; topics: readonly string[] }[], partitions: ReadonlyMap<string, readonly number[]>): Map<string, Record<string, number[]>> {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
  const numbers = [...new Set([...partitions.values()].flat())].sort((a, b) => a - b)
  const out = new Map<string, Record<string, number[]>>(sorted.map((m) => [m.memberId, {}]))
  if (sorted.length === 0) return out
  numbers.forEach((p, i) => {
    // Each topic's partition p goes to the first member, from the i-th in id order on, subscribed to the topic:
    // one member for all of them when the members subscribe alike (the detector's case).
    for (const [topic, numbered] of partitions) {
      if (!numbered.includes(p)) continue
      for (let k = 0; k < sorted.length; k++) {
        const member = sorted[(i + k) % sorted.length]!
        if (!member.topics.includes(topic)) continue
        ;(out.get(member.memberId)![topic] ??= []).push(p)
        break
      }
    }
  })
  return out
}

export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED,
  version: 0,
  async assign({ members, topics }) {
    const partitions = new Map(topics.map((topic) => [topic, cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId)]))
    const subscribed = members.map(({ memberId, memberMetadata }) => ({
      memberId,
      topics: AssignerProtocol.MemberMetadata.decode(memberMetadata)?.topics ?? topics,
    }))
    return [...coPartition(subscribed, partitions)].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: this.version, assignment, userData: Buffer.alloc(0) }),
    }))
  },
  protocol({ topics }) {
    return { name: this.name, metadata: AssignerProtocol.MemberMetadata.encode({ version: this.version, topics, userData: Buffer.alloc(0) }) }
  },
})
