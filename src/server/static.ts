/**
 * The dashboard's static assets: the files esbuild wrote to dist/web/ at
 * `npm run build`, read and gzip-compressed once at startup and served from
 * memory. Hashed asset names are cached for a year; index.html is no-cache.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface StaticAsset {
  /** URL path, e.g. `/` or `/assets/dashboard-ABC123.js`. */
  readonly path: string;
  readonly type: string;
  readonly cacheControl: string;
  readonly body: Buffer;
  /** Undefined when compressing would not make it smaller. */
  readonly gzip: Buffer | undefined;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const NO_CACHE = 'no-cache';

/**
 * dist/web next to the compiled server (dist/src/server → dist/web), or
 * under the repository root when running from source (tests).
 */
export function findWebRoot(): string | undefined {
  for (const rel of ['../../dist/web/', '../../web/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    // The built page has an assets/ folder; the web/ sources do not.
    if (existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'assets'))) return dir;
  }
  return undefined;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else out.push(full);
  }
  return out;
}

/** Loads every file under `root`; index.html is served at `/`. */
export function loadAssets(root: string | undefined = findWebRoot()): StaticAsset[] {
  if (root === undefined) return [];
  const assets: StaticAsset[] = [];
  for (const file of walk(root)) {
    const rel = relative(root, file).split(sep).join('/');
    const body = readFileSync(file);
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    const compressible = !type.startsWith('image/png');
    const gz = compressible ? gzipSync(body, { level: 9 }) : undefined;
    const isIndex = rel === 'index.html';
    assets.push({
      path: isIndex ? '/' : `/${rel}`,
      type,
      cacheControl: rel.startsWith('assets/') ? IMMUTABLE : NO_CACHE,
      body,
      gzip: gz !== undefined && gz.length < body.length ? gz : undefined,
    });
  }
  return assets;
}

/** True when an Accept-Encoding header allows gzip (and does not refuse it with q=0). */
export function acceptsGzip(header: string): boolean {
  for (const part of header.toLowerCase().split(',')) {
    const [coding, ...params] = part.trim().split(';');
    if (coding !== 'gzip' && coding !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}
