// Reading the alert policy file named by SW_ALERT_POLICY: JSON, or YAML for `.yaml`/`.yml` (parsed with the `yaml`
// package, YAML 1.2 core schema, so `no` stays a string and times stay strings for zod to read). Both end in the
// same zod validation (policy.ts); problems name the path and, for YAML, the line the yaml parser located.
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { LineCounter, parseDocument, type Document } from 'yaml'
import { ConfigError } from '../shared/errors.js'
import { parsePolicy, type AlertPolicy } from './policy.js'

type Env = Record<string, string | undefined>
type Path = readonly (string | number)[]

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

/** Where a path of the document starts in the file: the deepest node the path reaches (a missing key: its parent). */
function lineOf(doc: Document, lines: LineCounter, path: Path): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range
    if (range) return lines.linePos(range[0]).line
  }
  return undefined
}

interface Parsed {
  document: unknown
  /** Line of a path, when the format can say. */
  lineOf(path: Path): number | undefined
}

function parseJson(path: string, text: string): Parsed {
  try {
    return { document: JSON.parse(text), lineOf: () => undefined }
  } catch (error) {
    throw new ConfigError(`SW_ALERT_POLICY: ${path} is not JSON: ${(error as Error).message}`, error)
  }
}

function parseYaml(path: string, text: string): Parsed {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true })
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const at = e.linePos?.[0]
      return `${at ? `line ${at.line}, column ${at.col}: ` : ''}${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`
    })
    throw new ConfigError(`SW_ALERT_POLICY: ${path} is not valid YAML: ${problems.join('; ')}`)
  }
  // Aliases are expanded by toJS, bounded by the parser's maxAliasCount (a "billion laughs" file is refused).
  let document: unknown
  try {
    document = doc.toJS()
  } catch (error) {
    throw new ConfigError(`SW_ALERT_POLICY: ${path} is not valid YAML: ${(error as Error).message}`, error)
  }
  return { document: document ?? {}, lineOf: (p) => lineOf(doc, lines, p) }
}

/** Parses and validates policy text; `path` names the file in errors and chooses the format by its extension. */
export function parsePolicyText(path: string, text: string, env: Env): AlertPolicy {
  const yaml = ['.yaml', '.yml'].includes(extname(path).toLowerCase())
  const parsed = yaml ? parseYaml(path, text) : parseJson(path, text)
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
