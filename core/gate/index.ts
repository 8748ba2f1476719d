// Public surface of the instruction gate.
export { checkInstruction, type GateResult, type GateDecision, POINTS_PER_SECTION, PENALTY_PER_RULE } from './check-instruction.js';
export { SECTION_NAMES, type SectionName } from './sections.js';
export { MAX_INSTRUCTION_CHARS } from './instruction-text.js';
export type { Violation } from './find-violations.js';
export type { WeakReason } from './section-quality.js';
export { parseCommandLines } from './shell-parse.js';
