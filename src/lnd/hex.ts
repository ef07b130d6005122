/** True when value[from, to) are all hex digits, either case. */
export function isHex(value: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i);
    // '0'-'9', 'A'-'F', 'a'-'f'
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))) {
      return false;
    }
  }
  return true;
}

/** Lower-cases hex, without allocating when it already is (lnd prints lower case). */
export function toLowerHex(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x41 && c <= 0x46) return value.toLowerCase();
  }
  return value;
}
