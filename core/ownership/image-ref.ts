// Image references as the engine lists them in RepoTags: `busybox` → `busybox:latest`,
// `docker.io/library/busybox:1` → `busybox:1`. Ownership of image refs is keyed on this form.

/** Normalise a reference the way `docker images` shows it; undefined for ids and digests (not references). */
export function normalizeImageRef(ref: string): string | undefined {
  let r = ref.trim();
  if (r === '' || /^sha256:/i.test(r) || /^[0-9a-f]{12,64}$/.test(r)) return undefined;
  if (r.includes('@')) return undefined; // a digest names content, not a movable reference
  r = r.replace(/^docker\.io\/library\//, '').replace(/^index\.docker\.io\/library\//, '').replace(/^(index\.)?docker\.io\//, '');
  const lastSlash = r.lastIndexOf('/');
  const colon = r.lastIndexOf(':');
  if (colon <= lastSlash) r += ':latest';
  return r;
}

/** `repo` + `tag` query params (tag, commit, import, pull) as one reference. */
export function refFromRepoTag(repo: string, tag: string): string | undefined {
  if (repo === '') return undefined;
  return normalizeImageRef(tag !== '' && !repo.includes('@') ? `${repo}:${tag}` : repo);
}
