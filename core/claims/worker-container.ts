// What the verifiers need from the worker's container. Every method looks INSIDE that container (its filesystem,
// its processes, its network namespace), never at the sidecar's own. DockerodeWorkerContainer implements it over the
// Docker Engine API; tests may inject another Docker handle.
//
// Errors: WGM_ERR_CLAIM_CONTAINER_MISSING when the container does not exist (a definite answer: the verdict is
// UNVERIFIABLE); WGM_ERR_CLAIM_VERIFY_UNAVAILABLE when Docker cannot be asked right now (the verify loop retries).

export interface ContainerInfo {
  id: string;
  name: string;
  running: boolean;
  status: string;
  /** Config.WorkingDir, '/' when unset: relative claim paths resolve against it */
  workingDir: string;
  /** HOME from the container's environment (for `~/` paths), if known */
  home: string | undefined;
  /** mount destinations: files under them are not in the container's layer (no `changes` entry) */
  mounts: string[];
  /** Config.User as the engine has it ('' = the image's default, root for busybox): `name|uid[:group]` */
  user: string;
}

export interface PathStat {
  name: string;
  size: number;
  /** Go os.FileMode bits as Docker reports them */
  mode: number;
  mtime: Date;
  /** the engine's RFC 3339 text, nanoseconds kept (Date keeps milliseconds) */
  mtimeText: string;
  /** for a symlink, the absolute path it resolves to */
  linkTarget: string;
  isDir: boolean;
}

export interface FileRead {
  sha256: string;
  size: number;
  /** the content, when it fit in maxBytes */
  content: Buffer | undefined;
}

export interface ProcessEntry {
  pid: string;
  /** the process name (ps comm) */
  comm: string;
  /** the full command line */
  args: string;
}

export interface ExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** output beyond maxOutputBytes was dropped (the head and the tail are kept) */
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

export interface OtherContainer {
  id: string;
  name: string;
  running: boolean;
  status: string;
}

export type ChangeKind = 'modified' | 'added' | 'deleted';

export interface WorkerContainer {
  info(): Promise<ContainerInfo>;
  /** undefined when the path does not exist */
  stat(path: string): Promise<PathStat | undefined>;
  /** sha256 of a regular file's content; the content itself when it is at most maxBytes */
  readFile(path: string, maxBytes: number): Promise<FileRead | undefined>;
  processes(): Promise<ProcessEntry[]>;
  /** how the path differs from the container's image (docker diff), undefined when it does not */
  changeOf(path: string): Promise<ChangeKind | undefined>;
  /** the whole change list against the image (docker diff), read now */
  changes(): Promise<Map<string, ChangeKind>>;
  /** the tar stream of a path (GET archive, a directory with everything under it); undefined when it does not exist */
  archive(path: string): Promise<NodeJS.ReadableStream | undefined>;
  exec(cmd: string[], opts: { timeoutMs: number; maxOutputBytes: number; workingDir?: string }): Promise<ExecResult>;
  /**
   * another container by name or id (container_running claims); undefined when none; 'not-owned' when it exists
   * but is not the worker's (the sidecar's identity may inspect only what its worker owns)
   */
  inspectContainer(nameOrId: string): Promise<OtherContainer | 'not-owned' | undefined>;
}

/** Go's os.ModeDir and os.ModeSymlink bits in the mode Docker reports. */
export const MODE_DIR = 0x80000000;
export const MODE_SYMLINK = 0x08000000;
