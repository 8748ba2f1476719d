// What a classic build makes dockerd fetch by itself: `ADD <url>` sources and the `FROM` images it would pull.
// dockerd runs these from the host's network, past any isolation of the worker's containers, so the policy needs
// them as facts (core/policy/escalation.ts, `daemon_fetch`). The context is the tar the client sends (spooled by
// the proxy); only the Dockerfile is read out of it.
import fs from 'node:fs';
import path from 'node:path';
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

type Entries = { files: Set<string>; links: Map<string, string> };

const clean = (p: string): string => path.posix.normalize(`/${p}`).replace(/^\/+/, '').replace(/\/+$/, '');

/** Walk the context tar once with `onEntry`; gzip is read through, other compressions are reported. */
async function walkTar(file: string, onEntry: (name: string, header: tar.Header, stream: NodeJS.ReadableStream) => Promise<void>): Promise<string | undefined> {
  const head = await readHead(file, 6);
  if (head.length === 0) return undefined;
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'the build context is bzip2-compressed and cannot be inspected';
  if (head[0] === 0xfd && head.subarray(1, 6).toString('latin1') === '7zXZ\0') return 'the build context is xz-compressed and cannot be inspected';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'the build context is zstd-compressed and cannot be inspected';
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    onEntry(clean(header.name), header, stream as unknown as NodeJS.ReadableStream).then(
      () => next(),
      (err: Error) => next(err),
    );
  });
  try {
    if (gz) await pipeline(fs.createReadStream(file), createGunzip(), extract as unknown as NodeJS.WritableStream);
    else await pipeline(fs.createReadStream(file), extract as unknown as NodeJS.WritableStream);
  } catch (err) {
    return `the build context is not a readable tar (${(err as Error).message.slice(0, 80)})`;
  }
  return undefined;
}

const drain = (stream: NodeJS.ReadableStream) =>
  new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
    stream.resume();
  });

/**
 * The path dockerd opens for a Dockerfile name: cleaned and joined to the context root, every symlink (or hard
 * link) on the way followed inside the context, as its scoped EvalSymlinks does.
 */
function resolveIn(entries: Entries, name: string): string | undefined {
  let parts = clean(name).split('/').filter(Boolean);
  for (let hops = 0, i = 0; i < parts.length; ) {
    const prefix = parts.slice(0, i + 1).join('/');
    const link = entries.links.get(prefix);
    if (link === undefined) {
      i++;
      continue;
    }
    if (++hops > 40) return undefined;
    const base = link.startsWith('/') ? '' : parts.slice(0, i).join('/');
    parts = [...clean(`${base}/${link}`).split('/').filter(Boolean), ...parts.slice(i + 1)];
    i = 0;
  }
  const p = parts.join('/');
  return entries.files.has(p) ? p : undefined;
}

/** The Dockerfile's text out of the context tar, found the way dockerd finds it. */
async function dockerfileFrom(file: string, named: string): Promise<string | undefined | { problem: string }> {
  const entries: Entries = { files: new Set(), links: new Map() };
  const problem = await walkTar(file, async (name, header, stream) => {
    if (header.type === 'file' || header.type === 'contiguous-file') entries.files.add(name);
    else if ((header.type === 'symlink' || header.type === 'link') && header.linkname) {
      // A hard link names an archive path; a symlink a path relative to its directory (or the context root).
      entries.links.set(name, header.type === 'link' ? `/${header.linkname}` : header.linkname);
    }
    await drain(stream);
  });
  if (problem) return { problem };
  if (entries.files.size === 0 && entries.links.size === 0) return undefined;
  const wanted = named ? resolveIn(entries, named) : (resolveIn(entries, 'Dockerfile') ?? resolveIn(entries, 'dockerfile'));
  if (wanted === undefined) return { problem: `the Dockerfile (${named || 'Dockerfile'}) cannot be located in the build context` };
  let text: string | undefined;
  let tooBig = false;
  await walkTar(file, async (name, header, stream) => {
    if (name !== wanted || text !== undefined) return drain(stream);
    if ((header.size ?? 0) > MAX_DOCKERFILE) {
      tooBig = true;
      return drain(stream);
    }
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    text = Buffer.concat(chunks).toString('utf8');
  });
  if (tooBig) return { problem: 'the Dockerfile is larger than 1 MiB and was not read' };
  return text ?? { problem: 'the Dockerfile could not be read from the build context' };
}

type Instruction = ReturnType<ReturnType<typeof DockerfileParser.parse>['getInstructions']>[number];

/** ADD sources dockerd downloads itself: URLs, git remotes, and variables that may expand to either. */
function addFetches(instructions: Instruction[], vars: Map<string, string>): string[] {
  const out: string[] = [];
  for (const ins of instructions) {
    if (ins.getKeyword().toUpperCase() !== 'ADD') continue;
    const args = ins.getArguments().map((a) => a.getValue()).filter((v) => !v.startsWith('--'));
    for (const src of args.slice(0, -1)) {
      const s = substitute(src.replace(/^\[?"?|"?,?\]?$/g, ''), vars);
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^git@/.test(s) || s.includes('$')) out.push(s);
    }
  }
  return out;
}

/**
 * A base image's ONBUILD triggers run in the build that uses it (set by a Dockerfile, an import's `changes=`, a
 * commit, or a pulled image): their ADDs are this build's fetches.
 */
export function onbuildFetches(triggers: readonly string[]): string[] {
  if (triggers.length === 0) return [];
  const df = DockerfileParser.parse(triggers.join('\n'));
  return addFetches(df.getInstructions(), new Map());
}

function substitute(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}?/g, (m, name: string) => vars.get(name) ?? m);
}

/** Read the context's Dockerfile and list what dockerd would fetch for it. */
export async function inspectBuildContext(file: string, query: Array<[string, string]>): Promise<BuildContextFacts> {
  const named = query.find(([k]) => k === 'dockerfile')?.[1] ?? '';
  // dockerd falls back to `dockerfile` when the default name is missing.
  const got = await dockerfileFrom(file, named);
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
  const fetches = addFetches([...df.getInstructions(), ...df.getOnbuildTriggers()], vars);
  const stages = new Set<string>();
  const fromImages: string[] = [];
  for (const from of df.getFROMs()) {
    const raw = from.getArguments().map((a) => a.getValue()).filter((v) => !v.startsWith('--'));
    const image = substitute(raw[0] ?? '', vars);
    if (image !== '' && !stages.has(image.toLowerCase()) && image.toLowerCase() !== 'scratch') fromImages.push(image);
    const as = raw.findIndex((v) => v.toLowerCase() === 'as');
    if (as >= 0 && raw[as + 1]) stages.add(raw[as + 1].toLowerCase());
  }
  return { fetches, fromImages };
}
