// mvdan/sh (the parser of shfmt, as WASM through sh-syntax) as a syntax checker. sh-syntax's own `parse` compiles its
// WASM module on every call; the module is compiled here once per process and only instantiated per call. One instance
// per call is still needed: the TinyGo runtime inside is single-use (a second call into the same instance corrupts its
// heap), which is why sh-syntax does the same.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { getProcessor, type LangVariant } from 'sh-syntax';

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

/**
 * Parses `text` in the given dialect; resolves when it parses and rejects with sh-syntax's ParseError (`Pos`, `Text`)
 * or an Error whose message is `L:C: message` when it does not.
 */
export async function checkShellSyntax(text: string, variant: LangVariant): Promise<void> {
  await processor(text, { variant, keepComments: false });
}
