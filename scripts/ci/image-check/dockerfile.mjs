// Helper of scripts/ci/image-check.sh, which replays the Dockerfile without a Docker engine.
//
//   node dockerfile.mjs plan DOCKERFILE
//     Prints the Dockerfile as a bash script: one call per instruction (df_stage, df_workdir,
//     df_env, df_copy, df_run, df_user, df_expose, df_healthcheck, df_stopsignal, df_entrypoint,
//     df_cmd), each preceded by `df_at LINE`, arguments single-quoted. image-check.sh defines the
//     functions and sources the plan, so the check runs the Dockerfile's own commands.
//     Anything it does not understand is refused (exit 1, one line naming the Dockerfile line), so
//     the Dockerfile cannot quietly outgrow the check.
//   node dockerfile.mjs context DOCKERIGNORE < paths > paths
//     Filters NUL-separated paths (relative to the build context) through .dockerignore.
import { readFileSync } from 'node:fs';

const [mode, file] = process.argv.slice(2);

function refuse(line, why) {
  console.error(`image-check: ${file}:${line}: ${why}`);
  process.exit(1);
}

const sq = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;
const call = (fn, ...args) => [fn, ...args.map(sq)].join(' ');

/** Dockerfile lines joined across `\` continuations, comments dropped: [{ line, text }]. */
function instructions(src) {
  const out = [];
  let cur = null;
  src.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const text = raw.replace(/\r$/, '');
    const directive = /^#\s*(\w+)\s*=\s*(.*)$/.exec(text);
    if (cur === null && out.length === 0 && directive?.[1].toLowerCase() === 'escape')
      refuse(line, 'only the default escape character (\\) is supported');
    if (/^\s*#/.test(text) || (cur !== null && text.trim() === '')) return;
    if (cur === null && text.trim() === '') return;
    const continued = /\\\s*$/.test(text);
    const body = continued ? text.replace(/\\\s*$/, '') : text;
    if (cur === null) cur = { line, text: body };
    else cur.text += body;
    if (!continued) {
      out.push(cur);
      cur = null;
    }
  });
  if (cur !== null) refuse(cur.line, 'the last instruction ends with a line continuation');
  return out;
}

/** Leading --name=value flags: { flags: [[name, value]], rest }. */
function flags(text) {
  const out = [];
  let rest = text.trimStart();
  for (let m; (m = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest)); rest = rest.slice(m[0].length))
    out.push([m[1], m[2] ?? '']);
  return { flags: out, rest };
}

/** Words of a shell-like argument list, honouring single and double quotes and backslashes. */
function words(text) {
  const out = [];
  let cur = null;
  let quote = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === null && /\s/.test(c)) {
      if (cur !== null) out.push(cur);
      cur = null;
      continue;
    }
    cur ??= '';
    if (c === '\\' && quote !== "'" && i + 1 < text.length) cur += text[++i];
    else if (quote === null && (c === '"' || c === "'")) quote = c;
    else if (c === quote) quote = null;
    else cur += c;
  }
  if (cur !== null) out.push(cur);
  return out;
}

function json(line, text, what) {
  try {
    const v = JSON.parse(text);
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
  } catch {
    // refused below
  }
  return refuse(line, `${what} must be in exec form (a JSON array of strings)`);
}

function seconds(line, v) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(v);
  if (!m) refuse(line, `duration ${v}: use e.g. 5s`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60 }[m[2]];
}

function plan(src) {
  const args = new Map();
  const stages = [];
  const out = [];
  const expand = (s) =>
    s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => {
      const name = a ?? b;
      if (!args.has(name)) refuse(0, `ARG ${name} is used but has no default`);
      return args.get(name);
    });
  for (const { line, text } of instructions(src)) {
    const m = /^\s*(\w+)\s*(.*)$/s.exec(text);
    if (!m) refuse(line, `cannot parse: ${text}`);
    const op = m[1].toUpperCase();
    const rest = m[2].trim();
    out.push(`df_at ${line}`);
    if (stages.length === 0 && op !== 'ARG' && op !== 'FROM')
      refuse(line, `${op} before the first FROM`);
    switch (op) {
      case 'ARG': {
        if (stages.length > 0) refuse(line, 'ARG inside a stage is not supported by the check');
        const a = /^(\w+)=(.*)$/.exec(rest);
        if (!a) refuse(line, 'ARG needs a default (NAME=value)');
        args.set(a[1], words(a[2]).join(' '));
        break;
      }
      case 'FROM': {
        const f = flags(rest);
        if (f.flags.length > 0)
          refuse(line, 'FROM flags (--platform) are not supported by the check');
        const w = words(f.rest);
        if (!(w.length === 1 || (w.length === 3 && w[1].toUpperCase() === 'AS')))
          refuse(line, 'FROM IMAGE [AS NAME]');
        const name = w[2] ?? `stage${stages.length}`;
        stages.push(name);
        out.push(call('df_stage', name, expand(w[0])));
        break;
      }
      case 'WORKDIR':
        if (!rest.startsWith('/')) refuse(line, 'WORKDIR must be absolute');
        out.push(call('df_workdir', rest));
        break;
      case 'ENV': {
        const w = words(rest);
        const pairs = w.every((x) => x.includes('='))
          ? w.map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)])
          : [[w[0], w.slice(1).join(' ')]];
        for (const [k, v] of pairs) out.push(call('df_env', k, v));
        break;
      }
      case 'LABEL':
        break;
      case 'COPY': {
        const f = flags(rest);
        let from = '';
        for (const [k, v] of f.flags) {
          if (k === 'from') from = v;
          else if (k !== 'link') refuse(line, `COPY --${k} is not supported by the check`);
        }
        if (from !== '' && !stages.includes(from))
          refuse(line, `COPY --from=${from}: not a stage defined above`);
        const w = f.rest.startsWith('[') ? json(line, f.rest, 'COPY') : words(f.rest);
        if (w.length < 2) refuse(line, 'COPY SRC... DEST');
        if (w.some((s) => /[*?[]/.test(s))) refuse(line, 'COPY wildcards are not supported');
        if (w.slice(0, -1).some((s) => s.split('/').includes('..')))
          refuse(line, 'COPY sources must not contain ..');
        out.push(call('df_copy', from, w.at(-1), ...w.slice(0, -1)));
        break;
      }
      case 'RUN': {
        const f = flags(rest);
        for (const [k, v] of f.flags) {
          if (k !== 'mount' || !/^type=cache(,|$)/.test(v))
            refuse(line, `RUN --${k}=${v}: only --mount=type=cache is supported by the check`);
        }
        if (f.rest.startsWith('[')) refuse(line, 'RUN must be in shell form');
        // The check maps WORKDIR into a temporary folder; an absolute path would reach the host.
        if (/(^|[\s"'=:;|&(<>])\/(?!dev\/null)/.test(f.rest))
          refuse(line, 'RUN must use paths relative to WORKDIR (the check maps only WORKDIR)');
        out.push(call('df_run', f.rest.trim()));
        break;
      }
      case 'USER':
      case 'EXPOSE':
      case 'STOPSIGNAL':
        out.push(call(`df_${op.toLowerCase()}`, rest));
        break;
      case 'HEALTHCHECK': {
        const f = flags(rest);
        let timeout = 30;
        for (const [k, v] of f.flags) if (k === 'timeout') timeout = seconds(line, v);
        const c = /^CMD\s+(.*)$/s.exec(f.rest);
        if (!c) refuse(line, 'HEALTHCHECK [OPTIONS] CMD … (NONE is not supported by the check)');
        if (c[1].trimStart().startsWith('['))
          out.push(call('df_healthcheck_exec', timeout, ...json(line, c[1], 'HEALTHCHECK CMD')));
        else out.push(call('df_healthcheck', timeout, c[1].trim()));
        break;
      }
      case 'ENTRYPOINT':
      case 'CMD':
        // Shell form would make /bin/sh PID 1, which does not pass SIGTERM on to the server.
        out.push(call(`df_${op.toLowerCase()}`, ...json(line, rest, op)));
        break;
      default:
        refuse(
          line,
          `${op} is not supported by the check (see the list at the top of the Dockerfile)`,
        );
    }
  }
  if (stages.length === 0) refuse(0, 'no FROM');
  return out.join('\n') + '\n';
}

/** .dockerignore as [{ re, exclude }], in file order (the last match wins, as in Docker). */
function ignoreRules(src) {
  return src
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const exclude = !l.startsWith('!');
      const pat = (exclude ? l : l.slice(1)).trim().replace(/^\/+/, '').replace(/^\.\//, '');
      let re = '';
      for (let i = 0; i < pat.length; i++) {
        const c = pat[i];
        if (c === '*' && pat[i + 1] === '*') {
          // `**/` matches zero or more folders, `**` at the end anything.
          re += pat[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += pat[i + 2] === '/' ? 2 : 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { re: new RegExp(`^${re.replace(/\/+$/, '')}$`), exclude };
    });
}

/** Excluded when the path or one of its parent folders matches (moby/patternmatcher). */
function ignored(rules, path) {
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let out = false;
  for (const { re, exclude } of rules) if (prefixes.some((p) => re.test(p))) out = exclude;
  return out;
}

if (mode === 'plan') {
  process.stdout.write(plan(readFileSync(file, 'utf8')));
} else if (mode === 'context') {
  const rules = ignoreRules(readFileSync(file, 'utf8'));
  const paths = readFileSync(0, 'utf8').split('\0').filter(Boolean);
  process.stdout.write(paths.filter((p) => !ignored(rules, p)).join('\0'));
} else {
  console.error('usage: dockerfile.mjs plan DOCKERFILE | context DOCKERIGNORE < paths');
  process.exit(2);
}
