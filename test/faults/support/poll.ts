/** Polls until the condition holds, or throws after the limit (waiting on real I/O, never a fixed sleep). */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string),
  limitMs = 20_000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${limitMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    }
    await delay(everyMs);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
