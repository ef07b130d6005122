/** The content codings this service compresses with. */
export type ContentCoding = 'br' | 'gzip';

/** The qualities an Accept-Encoding header gives, by coding (lower case; x-gzip as gzip). */
function qualities(header: string | string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [name = '', ...params] = part.split(';').map((s) => s.trim());
    const coding = name.toLowerCase() === 'x-gzip' ? 'gzip' : name.toLowerCase();
    if (coding === '') continue;
    let quality = 1;
    for (const param of params) {
      const match = /^q=([0-9.]+)$/i.exec(param);
      if (match?.[1] !== undefined) quality = Number(match[1]);
    }
    if (Number.isNaN(quality)) continue;
    out.set(coding, Math.max(out.get(coding) ?? 0, quality));
  }
  return out;
}

/** The quality of one coding: its own, else that of `*`, else 0. */
function qualityOf(accepted: ReadonlyMap<string, number>, coding: string): number {
  return accepted.get(coding) ?? accepted.get('*') ?? 0;
}

/**
 * Whether an Accept-Encoding header lets the response be gzipped: gzip (or
 * x-gzip) with a non-zero quality, or `*` with a non-zero quality and gzip not
 * named.
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  return header !== undefined && qualityOf(qualities(header), 'gzip') > 0;
}

/**
 * The coding of `offered` the header accepts with the highest quality, the
 * first offered on a tie (the server's preference); undefined for none (the
 * response goes uncompressed).
 */
export function preferredCoding(
  header: string | string[] | undefined,
  offered: readonly ContentCoding[],
): ContentCoding | undefined {
  if (header === undefined) return undefined;
  const accepted = qualities(header);
  let best: ContentCoding | undefined;
  let bestQuality = 0;
  for (const coding of offered) {
    const quality = qualityOf(accepted, coding);
    if (quality > bestQuality) {
      best = coding;
      bestQuality = quality;
    }
  }
  return best;
}
