// What a classic build makes dockerd fetch by itself: `ADD <url>` sources and the `FROM` images it would pull.
// dockerd runs these from the host's network, past any isolation of the worker's containers, so the policy needs
// them as facts (core/policy/escalation.ts, `daemon_fetch`). The context is the tar the client sends (spooled by
// the proxy); only the Dockerfile is read out of it.
import fs from 'node:fs';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { DockerfileParser } from 'dockerfile-ast';
import tar from 'tar-stream';

import type { BuildContextFacts } from '../policy/escalation.js';

const MAX_DOCKERFILE = 1024 * 1024;

async function readHead(file: string, n: number): Promise<Buffer> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The Dockerfile's text out of the context tar (gzip or plain, as dockerd accepts them besides bzip2/xz). */
async function dockerfileFrom(file: string, wanted: string[]): Promise<string | undefined | { problem: string }> {
  const head = await readHead(file, 6);
  if (head.length === 0) return undefined;
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return { problem: 'the build context is bzip2-compressed and cannot be inspected' };
  if (head[0] === 0xfd && head.subarray(1, 6).toString('latin1') === '7zXZ\0') return { problem: 'the build context is xz-compressed and cannot be inspected' };
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return { problem: 'the build context is zstd-compressed and cannot be inspected' };
  const found = new Map<string, string>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '').replace(/\/+$/, '');
    if (wanted.includes(name) && header.type === 'file' && (header.size ?? 0) <= MAX_DOCKERFILE) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        found.set(name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
    } else {
      stream.on('end', () => next());
      stream.resume();
    }
  });
  try {
    if (gz) await pipeline(fs.createReadStream(file), createGunzip(), extract as unknown as NodeJS.WritableStream);
    else await pipeline(fs.createReadStream(file), extract as unknown as NodeJS.WritableStream);
  } catch (err) {
    return { problem: `the build context is not a readable tar (${(err as Error).message.slice(0, 80)})` };
  }
  for (const w of wanted) if (found.has(w)) return found.get(w);
  return undefined;
}

function substitute(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}?/g, (m, name: string) => vars.get(name) ?? m);
}

/** Read the context's Dockerfile and list what dockerd would fetch for it. */
export async function inspectBuildContext(file: string, query: Array<[string, string]>): Promise<BuildContextFacts> {
  const named = query.find(([k]) => k === 'dockerfile')?.[1] ?? '';
  const path = named.replace(/^\.\//, '') || 'Dockerfile';
  // dockerd falls back to `dockerfile` when the default name is missing.
  const got = await dockerfileFrom(file, named ? [path] : ['Dockerfile', 'dockerfile']);
  if (got === undefined) return { fetches: [], fromImages: [] }; // dockerd will refuse the build itself
  if (typeof got !== 'string') return { fetches: [], fromImages: [], problem: got.problem };
  const vars = new Map<string, string>();
  const buildArgs = query.find(([k]) => k === 'buildargs')?.[1];
  if (buildArgs) {
    try {
      for (const [k, v] of Object.entries(JSON.parse(buildArgs) as Record<string, unknown>)) if (typeof v === 'string') vars.set(k, v);
    } catch {
      return { fetches: [], fromImages: [], problem: 'buildargs is not a JSON object' };
    }
  }
  const df = DockerfileParser.parse(got);
  for (const arg of df.getARGs()) {
    const p = arg.getProperty();
    const name = p?.getName();
    const value = p?.getValue();
    if (name && value !== null && value !== undefined && !vars.has(name)) vars.set(name, value);
  }
  const fetches: string[] = [];
  for (const ins of [...df.getInstructions(), ...df.getOnbuildTriggers()]) {
    if (ins.getKeyword().toUpperCase() !== 'ADD') continue;
    const args = ins.getArguments().map((a) => a.getValue()).filter((v) => !v.startsWith('--'));
    for (const src of args.slice(0, -1)) {
      const s = substitute(src.replace(/^\[?"?|"?,?\]?$/g, ''), vars);
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^git@/.test(s) || s.includes('$')) fetches.push(s);
    }
  }
  const stages = new Set<string>();
  const fromImages: string[] = [];
  for (const from of df.getFROMs()) {
    const raw = from.getArguments().map((a) => a.getValue()).filter((v) => !v.startsWith('--'));
    const image = substitute(raw[0] ?? '', vars);
    if (image !== '' && !stages.has(image.toLowerCase()) && image.toLowerCase() !== 'scratch') fromImages.push(image);
    const as = raw.findIndex((v) => v.toLowerCase() === 'as');
    if (as >= 0 && raw[as + 1]) stages.add(raw[as + 1]!.toLowerCase());
  }
  return { fetches, fromImages };
}
