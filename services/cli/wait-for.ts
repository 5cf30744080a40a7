/** Polls a condition until it holds; the error names what was awaited. Never a blind sleep. */
export async function waitFor(condition: () => boolean | Promise<boolean>, options: { timeoutMs: number; intervalMs?: number; what: string }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      if (await condition()) return
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${lastError ? `: ${(lastError as Error).message}` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200))
  }
}
