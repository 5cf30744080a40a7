/** `--name value` from the command line, one of `choices`, or the first of them. */
export function choiceArg<T extends string>(name: string, choices: readonly [T, ...T[]]): T {
  const i = process.argv.indexOf(name)
  if (i === -1) return choices[0]
  const value = process.argv[i + 1] as T
  if (!choices.includes(value)) throw new Error(`${name} is ${choices.join(' or ')}`)
  return value
}

/** `--name value` from the command line, as a positive number, or the default. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name)
  if (i === -1) return fallback
  const value = Number(process.argv[i + 1])
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number`)
  return value
}
