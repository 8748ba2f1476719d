// Many rows in ONE statement: `INSERT … SELECT * FROM unnest($1::t1[], $2::t2[], …)`, one array parameter per
// column. The statement text is the same for any number of rows (one plan, cacheable as a prepared statement), and
// the server parses N column arrays instead of N×columns parameters: a multi-VALUES insert of 200 rows is 3,600
// parameters and a new statement text per batch size.

/** A column of a bulk insert: its name and the Postgres type of its values (sent as an array of that type). */
export interface BulkColumn {
  name: string;
  /** e.g. 'text', 'uuid', 'timestamptz', 'int4', 'float8', 'int8', 'jsonb' */
  type: string;
}

export interface BulkStatement {
  sql: string;
  /** one array per column, in column order */
  params: unknown[][];
}

const IDENT = /^[a-z_][a-z0-9_]*$/;
const TYPE = /^[a-z_][a-z0-9_ ]*$/;

/** The statement and its column arrays for `rows` (each row's values in column order). */
export function bulkInsert(
  table: string,
  columns: readonly BulkColumn[],
  rows: readonly (readonly unknown[])[],
  suffix = '',
): BulkStatement {
  // Names and types are part of the SQL text: only plain identifiers, never a caller's data.
  for (const n of [table, ...columns.map((c) => c.name)]) if (!IDENT.test(n)) throw new Error(`bulkInsert: bad identifier ${JSON.stringify(n)}`);
  for (const c of columns) if (!TYPE.test(c.type)) throw new Error(`bulkInsert: bad type ${JSON.stringify(c.type)}`);
  const params: unknown[][] = columns.map(() => new Array<unknown>(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (row.length !== columns.length) throw new Error(`bulkInsert: row ${r} has ${row.length} values for ${columns.length} columns`);
    for (let c = 0; c < columns.length; c++) params[c][r] = row[c] ?? null;
  }
  const names = columns.map((c) => c.name).join(', ');
  const arrays = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  return { sql: `INSERT INTO ${table} (${names}) SELECT * FROM unnest(${arrays})${suffix ? ' ' + suffix : ''}`, params };
}
