import type { Statement } from '../dialect.js';
import type { DialectName } from '../naming.js';

const TOKEN = /\{\{(\d+)\}\}/g;

/**
 * Collects bound values while SQL is assembled out of order. `bind()` returns a token that stands
 * for the value; `statement()` turns the tokens into the dialect's placeholders (`$n` on
 * PostgreSQL, `?` on SQLite, where each occurrence binds its value again), so that a fragment can
 * be built before the text around it and used twice. Values never enter the SQL text.
 */
export class Bindings {
  private readonly values: unknown[] = [];

  bind(value: unknown): string {
    this.values.push(value);
    return `{{${this.values.length - 1}}}`;
  }

  statement(dialect: DialectName, sql: string): Statement {
    if (dialect === 'postgres') {
      // Numbered by first use, so that a value bound but left out of the text leaves no gap PostgreSQL would refuse.
      const numbers = new Map<number, number>();
      const params: unknown[] = [];
      const text = sql.replace(TOKEN, (_m, n: string) => {
        const index = Number(n);
        let number = numbers.get(index);
        if (number === undefined) {
          params.push(this.values[index]);
          number = params.length;
          numbers.set(index, number);
        }
        return `$${number}`;
      });
      return { sql: text, params };
    }
    const params: unknown[] = [];
    const text = sql.replace(TOKEN, (_m, n: string) => {
      params.push(this.values[Number(n)]);
      return '?';
    });
    return { sql: text, params };
  }
}
