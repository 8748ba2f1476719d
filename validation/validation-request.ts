// The request of POST /output_validation/validate and its body schema. Kept apart from the service
// (output-validations.ts), which pulls in the validators (typescript, tree-sitter, the parsers): the route is
// registered with this file only, and the service is loaded on the first request.

export interface ValidationRequest {
  files?: Array<{ path: string; content: string }>;
  paths?: string[];
  instruction_id?: string;
  test_results?: string;
  expected_total?: number;
  run_tests?: boolean;
}

/** The instruction whose TEST_PROCESS `run_tests` re-runs. */
export interface TestProcessSource {
  testProcess(worker: string, instructionId?: string): Promise<string | undefined>;
}

export const VALIDATION_BODY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    worker: { type: 'string', minLength: 1, maxLength: 63 },
    files: {
      type: 'array',
      maxItems: 2000,
      items: {
        type: 'object',
        required: ['path', 'content'],
        additionalProperties: false,
        properties: { path: { type: 'string', minLength: 1, maxLength: 1024 }, content: { type: 'string' } },
      },
    },
    paths: { type: 'array', maxItems: 2000, items: { type: 'string', minLength: 1, maxLength: 1024 } },
    instruction_id: { type: 'string', format: 'uuid' },
    test_results: { type: 'string', maxLength: 5 * 1024 * 1024 },
    expected_total: { type: 'integer', minimum: 0 },
    run_tests: { type: 'boolean' },
  },
} as const;
