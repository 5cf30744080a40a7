// Settings files (the alert policy, the detector settings): JSON, or YAML when the name ends in .yaml or .yml,
// parsed with the `yaml` package (YAML 1.2 core schema, so `no` stays a string and times stay strings for zod to
// read). A syntax error names the setting, the file and, for YAML, the line and column; a parsed document can say
// on which line a path of it starts, so validation problems can point there too.
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { LineCounter, parseDocument, type Document } from 'yaml'
import { ConfigError } from './errors.js'

type Path = readonly (string | number)[]

/** Where a path of the document starts in the file: the deepest node the path reaches (a missing key: its parent). */
function lineOf(doc: Document, lines: LineCounter, path: Path): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range
    if (range) return lines.linePos(range[0]).line
  }
  return undefined
}

export interface ParsedSettings {
  document: unknown
  /** Line of a path, when the format can say. */
  lineOf(path: Path): number | undefined
}

function parseJson(setting: string, path: string, text: string): ParsedSettings {
  try {
    return { document: JSON.parse(text), lineOf: () => undefined }
  } catch (error) {
    throw new ConfigError(`${setting}: ${path} is not JSON: ${(error as Error).message}`, error)
  }
}

function parseYaml(setting: string, path: string, text: string): ParsedSettings {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true })
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const at = e.linePos?.[0]
      return `${at ? `line ${at.line}, column ${at.col}: ` : ''}${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`
    })
    throw new ConfigError(`${setting}: ${path} is not valid YAML: ${problems.join('; ')}`)
  }
  // Aliases are expanded by toJS, bounded by the parser's maxAliasCount (a "billion laughs" file is refused).
  let document: unknown
  try {
    document = doc.toJS()
  } catch (error) {
    throw new ConfigError(`${setting}: ${path} is not valid YAML: ${(error as Error).message}`, error)
  }
  return { document: document ?? {}, lineOf: (p) => lineOf(doc, lines, p) }
}

/** Parses settings text; `path` names the file in errors and chooses the format by its extension. */
export function parseSettingsText(setting: string, path: string, text: string): ParsedSettings {
  return ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(setting, path, text) : parseJson(setting, path, text)
}

/** Reads and parses a settings file named by `setting` (an environment variable). */
export function readSettingsFile(setting: string, path: string): ParsedSettings {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`${setting}: cannot read ${path}: ${(error as Error).message}`, error)
  }
  return parseSettingsText(setting, path, text)
}
