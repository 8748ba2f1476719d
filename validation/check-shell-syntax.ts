// mvdan/sh (the parser of shfmt, as WASM through sh-syntax) as a syntax checker. sh-syntax's own `parse` compiles its
// WASM module on every call; the module is compiled here once per process and only instantiated per call. One instance
// per call is still needed: the TinyGo runtime inside is single-use (a second call into the same instance corrupts its
// heap), which is why sh-syntax does the same.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { getProcessor, LangVariant } from 'sh-syntax';

const require = createRequire(import.meta.url);

let compiling: Promise<WebAssembly.Module> | null = null;

function compiled(): Promise<WebAssembly.Module> {
  if (!compiling) {
    compiling = readFile(require.resolve('sh-syntax/main.wasm')).then((bytes) => WebAssembly.compile(bytes));
    compiling.catch(() => {
      compiling = null;
    });
  }
  return compiling;
}

const processor = getProcessor(async (imports) => WebAssembly.instantiate(await compiled(), imports));

// Literal array subscripts: `m[/etc/hosts]=x`, `${m[a.b]}`, and keys in `declare -A m=([k:1]=v)`. Only plain word
// characters (no quotes, expansions or operators), so masking them cannot change the script's structure.
const SUBSCRIPT_CHARS = String.raw`[^\]\s$\x60"'()<>|&;{}#\\]+`;
const LITERAL_SUBSCRIPT = new RegExp(String.raw`(?<=[A-Za-z0-9_]\[)${SUBSCRIPT_CHARS}(?=\])|(?<=(?:^|[\s(])\[)${SUBSCRIPT_CHARS}(?=\]\+?=)`, 'gm');

/**
 * Parses `text` in the given dialect; resolves when it parses and rejects with sh-syntax's ParseError (`Pos`, `Text`)
 * or an Error whose message is `L:C: message` when it does not.
 *
 * mvdan/sh reads every array subscript as arithmetic, its documented limit (it cannot know that an array is
 * associative), so valid bash such as `m[/etc/hosts]=x` is an error there; bash itself does not look inside subscripts
 * when it parses. So a bash or bats file mvdan/sh rejects is checked again with its literal subscripts replaced by `_`
 * of the same length (positions stay right), and only that verdict counts.
 */
export async function checkShellSyntax(text: string, variant: LangVariant): Promise<void> {
  const options = { variant, keepComments: false };
  try {
    await processor(text, options);
  } catch (err) {
    if (variant === LangVariant.LangPOSIX) throw err;
    const masked = text.replace(LITERAL_SUBSCRIPT, (m) => '_'.repeat(m.length));
    if (masked === text) throw err;
    await processor(masked, options);
  }
}
