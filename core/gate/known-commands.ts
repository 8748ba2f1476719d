// First words that make a bare line (no `$ ` prompt, no code span) read as a command rather than prose. Lowercase
// and exact: "Make sure…" is prose, "make test" is a command.
export const KNOWN_COMMANDS: ReadonlySet<string> = new Set([
  'git', 'rm', 'rmdir', 'docker', 'docker-compose', 'podman', 'chmod', 'chown', 'curl', 'wget', 'dd', 'mkfs', 'mke2fs',
  'sudo', 'doas', 'su', 'env', 'export', 'unset', 'set', 'source', 'eval', 'exec', 'psql', 'mysql', 'sqlite3',
  'dropdb', 'createdb', 'pg_dump', 'pg_restore', 'redis-cli', 'mongo', 'mongosh', 'sh', 'bash', 'zsh', 'dash', 'npm',
  'npx', 'node', 'yarn', 'pnpm', 'deno', 'bun', 'tsc', 'tap', 'jest', 'vitest', 'mocha', 'python', 'python3', 'pip',
  'pip3', 'pytest', 'tox', 'make', 'cmake', 'ctest', 'go', 'cargo', 'rustc', 'mvn', 'gradle', 'kubectl', 'helm',
  'terraform', 'ansible', 'ansible-playbook', 'cd', 'mv', 'cp', 'ln', 'find', 'xargs', 'tar', 'unzip', 'systemctl',
  'service', 'kill', 'pkill', 'killall', 'apt', 'apt-get', 'yum', 'dnf', 'apk', 'brew', 'ssh', 'scp', 'rsync', 'echo',
  'printf', 'cat', 'tee', 'sed', 'awk', 'grep', 'ls', 'mkdir', 'touch', 'truncate', 'shred', 'wipefs', 'fdisk',
  'parted', 'mount', 'umount', 'crontab', 'nohup', 'timeout', 'time', 'nice', 'watch', 'iptables', 'ufw', 'reboot',
  'shutdown', 'halt', 'poweroff', 'init', 'useradd', 'usermod', 'passwd', 'openssl', 'gpg', 'base64', 'jq', 'yq',
]);

/** First word of a command-looking line: known command, `mkfs.ext4`, or a path to an executable (`./x`, `/usr/bin/x`). */
export function looksLikeCommandWord(word: string): boolean {
  return KNOWN_COMMANDS.has(word) || /^mkfs\.[a-z0-9]+$/.test(word) || /^(?:\.{1,2}\/|\/)[\w./-]+$/.test(word);
}
