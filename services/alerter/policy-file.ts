// Reading the alert policy file named by SW_ALERT_POLICY: JSON, or YAML for `.yaml`/`.yml` (read by
// shared/settings-file.ts). Both end in the same zod validation (policy.ts); problems name the path and, for YAML,
// the line the yaml parser located.
import { readFileSync } from 'node:fs'
import { ConfigError } from '../shared/errors.js'
import { parseSettingsText } from '../shared/settings-file.js'
import { parsePolicy, type AlertPolicy } from './policy.js'

type Env = Record<string, string | undefined>

const ENV_REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g

/**
 * `${env:NAME}` inside any string value is replaced by that environment variable, after parsing: a value holding
 * quotes, backslashes or YAML markup can never change the document's structure. Unset variables are collected.
 */
function interpolate(value: unknown, env: Env, missing: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (_m, name: string) => {
      const found = env[name]
      if (found === undefined) missing.add(name)
      return found ?? ''
    })
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env, missing))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, missing)]))
  return value
}

/** Parses and validates policy text; `path` names the file in errors and chooses the format by its extension. */
export function parsePolicyText(path: string, text: string, env: Env): AlertPolicy {
  const parsed = parseSettingsText('SW_ALERT_POLICY', path, text)
  const missing = new Set<string>()
  const document = interpolate(parsed.document, env, missing)
  if (missing.size > 0) throw new ConfigError(`SW_ALERT_POLICY: ${path} names unset environment variables: ${[...missing].join(', ')}`)
  const result = parsePolicy(document)
  if (!result.ok) {
    const problems = result.issues.map((i) => {
      const line = parsed.lineOf(i.path)
      return `${i.path.join('.') || '(document)'}${line ? ` (line ${line})` : ''}: ${i.message}`
    })
    throw new ConfigError(`SW_ALERT_POLICY: ${path}: ${problems.join('; ')}`)
  }
  return result.policy
}

/** The alert policy file (docs/alerting.md): JSON, or YAML when the name ends in .yaml or .yml. */
export function loadPolicyFile(path: string, env: Env): AlertPolicy {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`SW_ALERT_POLICY: cannot read ${path}: ${(error as Error).message}`, error)
  }
  return parsePolicyText(path, text, env)
}
