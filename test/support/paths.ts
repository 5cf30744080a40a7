import { join } from 'node:path'
import { packageRoot } from '../../services/shared/paths.js'

export const repoRoot = packageRoot

export function fixturePath(...parts: string[]): string {
  return join(repoRoot, 'test', 'fixtures', ...parts)
}
