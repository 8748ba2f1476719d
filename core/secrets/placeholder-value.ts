// Values that stand in for a secret rather than being one: variable references, templates, masks, type names and
// the stock words of example configuration. Used by the context patterns (password=…, URL passwords, assignments).

const PLACEHOLDER_WORDS = new Set([
  'changeme', 'change_me', 'change-me', 'changeit', 'password', 'passwd', 'pass', 'pwd', 'secret', 'secrets', 'token',
  'example', 'sample', 'placeholder', 'redacted', 'hidden', 'masked', 'none', 'null', 'nil', 'undefined', 'true',
  'false', 'todo', 'tbd', 'fixme', 'empty', 'required', 'optional', 'str', 'string', 'int', 'bool', 'bytes', 'any',
  'number', 'text', 'varchar', 'secretstr', 'value', 'your_password', 'yourpassword', 'your-password', 'mypassword',
  'my_password', 'user', 'username', 'pw', 'xxx', 'foo', 'bar', 'baz', 'env', 'os.environ', 'process.env',
]);

/** True when `value` (without surrounding quotes) is a reference or a stand-in, not a literal secret. */
export function isPlaceholderValue(raw: string): boolean {
  const value = raw.trim().replace(/[,;]+$/, '');
  if (value.length === 0) return true;
  const lower = value.toLowerCase();
  if (PLACEHOLDER_WORDS.has(lower)) return true;
  // Shell/compose/CI/template references: $VAR, ${VAR}, $(cmd), %VAR%, {{ var }}, <password>, [REDACTED…], !vault
  if (value.startsWith('$') || /^%[A-Za-z_][A-Za-z0-9_]*%$/.test(value) || /^!{1,2}[A-Za-z]/.test(value)) return true;
  if (/^\{\{.*\}\}$/.test(value) || /^<[^<>]*>$/.test(value) || /^\[redacted/i.test(value)) return true;
  if (/^\[[^\]]*\]$/.test(value)) return true;
  // References into the environment or a config object rather than a literal.
  if (/^(process\.env|os\.environ|os\.getenv|getenv|env|secrets|vars|config|settings|ENV)[.[(]/i.test(value)) return true;
  // Masks and elisions: ****, xxxx, ..., ———
  if (/^([*xX.•·…_#-])\1*$/.test(value)) return true;
  if (/^(x{3,}|\*{3,})/i.test(value)) return true;
  if (/(your|my)[-_ ]?(password|passwd|secret|token|key)|placeholder|changeme|redacted/i.test(value)) return true;
  return false;
}
