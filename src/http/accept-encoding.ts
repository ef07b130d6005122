/**
 * Whether an Accept-Encoding header lets the response be gzipped: gzip (or
 * x-gzip) with a non-zero quality, or `*` with a non-zero quality and gzip not
 * named.
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [name = '', ...params] = part.split(';').map((s) => s.trim());
    const coding = name.toLowerCase();
    let quality = 1;
    for (const param of params) {
      const match = /^q=([0-9.]+)$/i.exec(param);
      if (match?.[1] !== undefined) quality = Number(match[1]);
    }
    if (Number.isNaN(quality)) continue;
    if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip ?? 0, quality);
    else if (coding === '*') any = quality;
  }
  return gzip !== undefined ? gzip > 0 : (any ?? 0) > 0;
}
