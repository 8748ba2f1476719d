// Image references as the engine lists them in RepoTags, normalised the way distribution/reference does
// (ParseNormalizedNamed, then FamiliarString): `busybox`, `library/busybox`, `docker.io/library/busybox` and
// `index.docker.io/busybox:latest` are all `busybox:latest`. Ownership of image refs is keyed on this form, so
// every spelling of one reference must land on the same key.

/**
 * The registry host a reference names (`host[:port]/…`), as distribution/reference splits it: a first component
 * with '.' or ':', or `localhost`, or upper case (repositories may not have it). Undefined: Docker Hub.
 */
export function referenceDomain(ref: string): string | undefined {
  const slash = ref.indexOf('/');
  if (slash < 0) return undefined;
  const first = ref.slice(0, slash);
  return /[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase() ? first : undefined;
}

/** Normalise a reference the way `docker images` shows it; undefined for ids and digests (not references). */
export function normalizeImageRef(ref: string): string | undefined {
  const r = ref.trim();
  if (r === '' || /^sha256:/i.test(r) || /^[0-9a-f]{12,64}$/.test(r)) return undefined;
  if (r.includes('@')) return undefined; // a digest names content, not a movable reference
  // Split off the tag (a ':' after the last '/').
  const lastSlash = r.lastIndexOf('/');
  const colon = r.lastIndexOf(':');
  const name = colon > lastSlash ? r.slice(0, colon) : r;
  const tag = colon > lastSlash ? r.slice(colon + 1) : 'latest';
  const named = referenceDomain(name);
  let domain = named ?? 'docker.io';
  let path = named === undefined ? name : name.slice(named.length + 1);
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  // Familiar form: Docker Hub's domain and its `library/` namespace are left out.
  let familiar = domain === 'docker.io' ? path : `${domain}/${path}`;
  if (domain === 'docker.io' && familiar.startsWith('library/') && !familiar.slice('library/'.length).includes('/')) {
    familiar = familiar.slice('library/'.length);
  }
  return `${familiar}:${tag}`;
}

/** `repo` + `tag` query params (tag, commit, import, pull) as one reference. */
export function refFromRepoTag(repo: string, tag: string): string | undefined {
  if (repo === '') return undefined;
  return normalizeImageRef(tag !== '' && !repo.includes('@') ? `${repo}:${tag}` : repo);
}
