// A small JSON Schema (2020-12) checker for the keywords the vendor schemas under schemas/vendors/ use:
// type, const, enum, properties, required, additionalProperties, items, min/maxItems, min/maxLength,
// pattern, minimum/maximum, oneOf, anyOf, and local $ref (#/$defs/...). Anything else is rejected when the
// schema is compiled, so a schema never silently checks less than it says.

type Schema = Record<string, unknown>

const KNOWN = new Set([
  '$schema', '$id', '$defs', 'title', 'description', '$ref', 'type', 'const', 'enum', 'properties', 'required',
  'additionalProperties', 'items', 'minItems', 'maxItems', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'oneOf', 'anyOf',
])

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

export function createJsonSchemaValidator(root: Schema) {
  const defs = (root.$defs ?? {}) as Record<string, Schema>
  const patterns = new Map<string, RegExp>()

  function checkKeywords(schema: Schema, path: string) {
    for (const key of Object.keys(schema)) if (!KNOWN.has(key)) throw new Error(`unsupported JSON Schema keyword '${key}' at ${path}`)
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'properties' || key === '$defs') for (const [k, s] of Object.entries(value as Record<string, Schema>)) checkKeywords(s, `${path}/${key}/${k}`)
      if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object') checkKeywords(value as Schema, `${path}/${key}`)
      if (key === 'oneOf' || key === 'anyOf') (value as Schema[]).forEach((s, i) => checkKeywords(s, `${path}/${key}/${i}`))
      if (key === 'pattern') patterns.set(value as string, new RegExp(value as string, 'u'))
    }
  }
  checkKeywords(root, '#')

  function validate(schema: Schema, value: unknown, at: string, errors: string[]): void {
    if (typeof schema.$ref === 'string') {
      const name = schema.$ref.replace(/^#\/\$defs\//, '')
      const target = defs[name]
      if (!target) throw new Error(`unresolved $ref ${schema.$ref}`)
      validate(target, value, at, errors)
    }
    const actual = typeOf(value)
    if (schema.type !== undefined) {
      const types = Array.isArray(schema.type) ? schema.type : [schema.type]
      if (!types.some((t) => t === actual || (t === 'number' && actual === 'integer'))) {
        errors.push(`${at}: expected ${types.join('|')}, got ${actual}`)
        return
      }
    }
    if ('const' in schema && value !== schema.const) errors.push(`${at}: must be ${JSON.stringify(schema.const)}`)
    if (schema.enum && !(schema.enum as unknown[]).includes(value)) errors.push(`${at}: must be one of ${JSON.stringify(schema.enum)}`)
    if (typeof value === 'string') {
      const length = [...value].length
      if (typeof schema.minLength === 'number' && length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`)
      if (typeof schema.maxLength === 'number' && length > schema.maxLength) errors.push(`${at}: longer than ${schema.maxLength}`)
      if (typeof schema.pattern === 'string' && !patterns.get(schema.pattern)!.test(value)) errors.push(`${at}: does not match ${schema.pattern}`)
    }
    if (typeof value === 'number') {
      if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${at}: below ${schema.minimum}`)
      if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${at}: above ${schema.maximum}`)
    }
    if (Array.isArray(value)) {
      if (typeof schema.minItems === 'number' && value.length < schema.minItems) errors.push(`${at}: fewer than ${schema.minItems} items`)
      if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) errors.push(`${at}: more than ${schema.maxItems} items`)
      if (schema.items) value.forEach((item, i) => validate(schema.items as Schema, item, `${at}/${i}`, errors))
    }
    if (actual === 'object') {
      const object = value as Record<string, unknown>
      for (const key of (schema.required as string[] | undefined) ?? []) if (!(key in object)) errors.push(`${at}: missing '${key}'`)
      const properties = (schema.properties ?? {}) as Record<string, Schema>
      for (const [key, inner] of Object.entries(object)) {
        if (properties[key]) validate(properties[key], inner, `${at}/${key}`, errors)
        else if (schema.additionalProperties === false) errors.push(`${at}: unexpected property '${key}'`)
        else if (typeof schema.additionalProperties === 'object') validate(schema.additionalProperties as Schema, inner, `${at}/${key}`, errors)
      }
    }
    if (schema.anyOf) {
      const ok = (schema.anyOf as Schema[]).some((s) => {
        const inner: string[] = []
        validate(s, value, at, inner)
        return inner.length === 0
      })
      if (!ok) errors.push(`${at}: matches none of anyOf`)
    }
    if (schema.oneOf) {
      const results = (schema.oneOf as Schema[]).map((s) => {
        const inner: string[] = []
        validate(s, value, at, inner)
        return inner
      })
      const passing = results.filter((r) => r.length === 0).length
      if (passing !== 1) {
        const closest = results.reduce((a, b) => (b.length < a.length ? b : a))
        errors.push(passing === 0 ? `${at}: matches none of oneOf (closest: ${closest.slice(0, 3).join('; ')})` : `${at}: matches ${passing} of oneOf`)
      }
    }
  }

  return {
    /** The problems found, empty when the value conforms. */
    errors(value: unknown): string[] {
      const errors: string[] = []
      validate(root, value, '#', errors)
      return errors
    },
  }
}
