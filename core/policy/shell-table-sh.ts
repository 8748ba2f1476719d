// Render the shell wrapper's case table (sh functions) from the one table in shell-rules.ts. The wrapper's parser
// (hand-written, in shell-wrapper/docker) calls these; `node shell-wrapper/gen-table.mjs` writes them into the
// wrapper between its markers, and test/wrapper/table.test.ts fails when the file is out of date.
import { GLOBAL_VALUES, MANAGEMENT, SHELL_RULES, type ShellEscalation } from './shell-rules.js';

export const BEGIN_MARK = '# >>> generated from core/policy/shell-rules.ts by `node shell-wrapper/gen-table.mjs`: do not edit >>>';
export const END_MARK = '# <<< end of generated table <<<';

/** A literal for sh: single-quoted. */
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
/** An sh case pattern for a glob whose only special character is `*`. */
const glob = (g: string): string => g.split('*').map((p) => (p === '' ? '' : q(p))).join('*') || "''";
const patterns = (xs: readonly string[]): string => xs.map(q).join('|');
const globs = (xs: readonly string[]): string => xs.map(glob).join('|');
const spaced = (xs: readonly string[]): string => q(` ${xs.join(' ')} `);
const shorts = (xs: readonly string[]): string =>
  q(
    xs
      .filter((v) => /^-[^-]$/.test(v))
      .map((v) => v[1])
      .join(''),
  );

function escalationCheck(e: ShellEscalation, fieldFn: string): string {
  const kind = e.kind;
  // match/unless compare the lowercased value without spaces, or the value as given (`exact`)
  const value = e.exact ? '$3' : '$_wg_low';
  const lower = e.exact ? '' : '_wg_lower "$3"; ';
  switch (e.value) {
    case 'bool':
      return `_wg_is_true "$2" "$3" && _wg_kind ${kind}`;
    case 'any':
      return `_wg_kind ${kind}`;
    case 'match':
      return `${lower}case ${value} in ${globs(e.globs ?? [])}) _wg_kind ${kind} ;; esac`;
    case 'unless':
      return `${lower}case ${value} in ${globs(e.globs ?? [])}) ;; *) _wg_kind ${kind} ;; esac`;
    case 'volume':
      return `if _wg_volume_src "$3"; then case $_wg_src in ${globs(e.globs ?? [])}) _wg_kind ${kind} ;; esac; fi`;
    case 'mount':
      return `_wg_fields "$3" ${fieldFn} && _wg_kind ${kind}`;
    case 'tmpfs':
      return `_wg_tmpfs_arg "$3" ${spaced(e.allow ?? [])} && _wg_kind ${kind}`;
    case 'mount-driver':
      return `_wg_mount_volume "$3" ${spaced(e.allow ?? [])}; [ "$_wg_mv_driver" = 1 ] && _wg_kind ${kind}`;
    case 'mount-options':
      return `_wg_mount_volume "$3" ${spaced(e.allow ?? [])}; [ "$_wg_mv_opts" = 1 ] && _wg_kind ${kind}`;
  }
}

export function renderShellTable(): string {
  const out: string[] = [BEGIN_MARK];
  const line = (s = '') => out.push(s);

  line(`_wg_global_values=${spaced(GLOBAL_VALUES)}`);
  line(`_wg_global_shorts=${shorts(GLOBAL_VALUES)}`);
  line();
  line('# _wg_mgmt WORD: is WORD a management command (its options may precede its subcommand)?');
  line('_wg_mgmt() {');
  line('  case $1 in');
  for (const [word, values] of Object.entries(MANAGEMENT)) {
    line(`    ${q(word)}) _wg_mvalues=${spaced(values)} _wg_mshorts=${shorts(values)} ;;`);
  }
  line('    *) return 1 ;;');
  line('  esac');
  line('}');
  line();
  line('# _wg_row "WORDS": the row for a command (`rm`, `container rm`, `compose down`), or return 1');
  line('_wg_row() {');
  line('  case $1 in');
  for (const r of SHELL_RULES) {
    const fields = [
      `_wg_id=${q(r.id)}`,
      `_wg_decision=${r.decision}`,
      `_wg_docker=${q(r.docker.join(','))}`,
      `_wg_values=${spaced(r.values)}`,
      `_wg_vshorts=${shorts(r.values)}`,
      // none: positionals are optional; otherwise at least one is needed (docker prints its usage without)
      `_wg_targets=${r.targets ? r.targets.take : r.names ? 'named' : 'none'}`,
      `_wg_stop=${r.stopAtFirst ? 1 : 0}`,
      `_wg_cp_out=${q((r.cp?.out ?? []).join(','))}`,
      `_wg_cp_in=${q((r.cp?.in ?? []).join(','))}`,
      `_wg_esc_docker=${q((r.escalate?.docker ?? []).join(','))}`,
    ];
    line(`    ${patterns(r.paths)})`);
    line(`      ${fields.join(' ')} ;;`);
  }
  line('    *) return 1 ;;');
  line('  esac');
  line('}');
  line();
  line('# _wg_when FLAG: Docker rules a (set) flag adds to the current row');
  line('_wg_when() {');
  line('  case $_wg_id in');
  for (const r of SHELL_RULES) {
    const adds = (r.when ?? []).filter((w) => w.add && w.add.length);
    if (!adds.length) continue;
    line(`    ${q(r.id)})`);
    for (const w of adds) line(`      case $1 in ${patterns(w.flags)}) ${w.add!.map((a) => `_wg_add ${a}`).join('; ')} ;; esac`);
    line('      ;;');
  }
  line('  esac');
  line('}');
  line();
  const stdinRows = SHELL_RULES.filter((r) => r.stdin);
  line('# _wg_stdin_row "WORDS": does the command attach stdin to a container (_wg_si_docker: the rules it then needs),');
  line('# and by default (_wg_si_flag)?');
  line('_wg_stdin_row() {');
  line('  _wg_si_docker= _wg_si_flag=0 _wg_si_val=0 _wg_si_off=0');
  line('  case $1 in');
  for (const r of stdinRows) {
    const st = r.stdin!;
    line(`    ${patterns(st.paths ?? r.paths)}) _wg_si_docker=${q(st.docker.join(','))} _wg_si_flag=${st.default ? 1 : 0} ;;`);
  }
  line('  esac');
  line('}');
  line();
  line('# _wg_stdin_flag FLAG HASVALUE VALUE: a flag that attaches stdin or keeps it out (the last one given wins)');
  line('_wg_stdin_flag() {');
  line('  case $_wg_id in');
  for (const r of stdinRows) {
    const st = r.stdin!;
    line(`    ${q(r.id)})`);
    if (st.on?.length) line(`      case $1 in ${patterns(st.on)}) if _wg_is_true "$2" "$3"; then _wg_si_flag=1; else _wg_si_flag=0; fi ;; esac`);
    if (st.onValue) line(`      case $1 in ${patterns(st.onValue.flags)}) _wg_lower "$3"; case $_wg_low in ${patterns(st.onValue.values)}) _wg_si_val=1 ;; esac ;; esac`);
    if (st.off?.length) line(`      case $1 in ${patterns(st.off)}) if _wg_is_true "$2" "$3"; then _wg_si_off=1; else _wg_si_off=0; fi ;; esac`);
    line('      ;;');
  }
  line('  esac');
  line('}');
  line();
  const escRows = SHELL_RULES.filter((r) => r.escalate);
  const fieldFns: string[] = [];
  line('# _wg_escalation FLAG HASVALUE VALUE: escalation kinds of a flag (run/create, update)');
  line('_wg_escalation() {');
  line('  case $_wg_id in');
  for (const r of escRows) {
    line(`    ${q(r.id)})`);
    r.escalate!.flags.forEach((e, n) => {
      const fn = `_wg_field_${r.id.replace(/[^a-z0-9]/g, '_')}_${n}`;
      if (e.value === 'mount') {
        fieldFns.push(
          `${fn}() {\n  case $1 in\n    ${globs(e.fieldUnless ?? []) || "''"}) return 1 ;;\n    ${globs(e.globs ?? [])}) return 0 ;;\n  esac\n  return 1\n}`,
        );
      }
      line(`      case $1 in ${patterns(e.flags)}) ${escalationCheck(e, fn)} ;; esac`);
    });
    line('      ;;');
  }
  line('  esac');
  line('}');
  for (const f of fieldFns) {
    line();
    line('# a --mount CSV field that escalates');
    line(f);
  }
  out.push(END_MARK);
  return out.join('\n') + '\n';
}

/** Replace the generated block of a wrapper script with a fresh rendering. */
export function spliceShellTable(script: string): string {
  const start = script.indexOf(BEGIN_MARK);
  const end = script.indexOf(END_MARK);
  if (start < 0 || end < start) throw new Error('shell wrapper: generated-table markers not found');
  return script.slice(0, start) + renderShellTable() + script.slice(end + END_MARK.length + 1);
}
