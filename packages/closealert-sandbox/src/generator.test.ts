import { describe, expect, it } from 'vitest';
import { ResponseGenerator, type GeneratorSettings } from './generator.js';
import { TimeZone } from './time-zone.js';
import type { SandboxFormResponse } from './types.js';

const NOW_MS = Date.parse('2024-06-15T12:00:00Z');
const DAY_MS = 86_400_000;

function generate(count: number, overrides: Partial<GeneratorSettings> = {}): SandboxFormResponse[] {
  const generator = new ResponseGenerator({
    seed: 42,
    nowMs: NOW_MS,
    spanDays: 60,
    projectKey: 'company.com',
    zone: new TimeZone('UTC'),
    expectedResponses: count,
    ...overrides,
  });
  return Array.from(generator.historyTimes(count), (epochMs, index) => generator.create(index + 1, epochMs));
}

const sample = generate(3000);
const epochOf = (response: SandboxFormResponse): number => Date.parse(`${response.created_at}Z`);

describe('ResponseGenerator', () => {
  it('is deterministic for a seed and a clock', () => {
    expect(generate(500)).toEqual(generate(500));
    expect(generate(500, { seed: 7 })).not.toEqual(generate(500));
    expect(generate(500, { nowMs: NOW_MS - 1000 })).not.toEqual(generate(500));
  });

  it('spreads responses over the span before now, in creation order', () => {
    for (const [index, response] of sample.entries()) {
      expect(response.id).toBe(index + 1);
      expect(response.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
      expect(epochOf(response)).toBeLessThanOrEqual(NOW_MS);
      expect(epochOf(response)).toBeGreaterThanOrEqual(NOW_MS - 60 * DAY_MS);
      if (index > 0)
        expect(epochOf(response)).toBeGreaterThanOrEqual(epochOf(sample[index - 1] as SandboxFormResponse));
    }
  });

  it('produces bursts of many responses in the same second', () => {
    const perSecond = new Map<string, number>();
    for (const response of sample)
      perSecond.set(response.created_at, (perSecond.get(response.created_at) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeGreaterThanOrEqual(5);
  });

  it('renders created_at in the configured zone', () => {
    const [utc] = generate(1);
    const [amsterdam] = generate(1, { zone: new TimeZone('Europe/Amsterdam') });
    const shifted = new Date(Date.parse(`${utc?.created_at}Z`) + 2 * 3_600_000).toISOString().slice(0, 19);
    expect(amsterdam?.created_at).toBe(shifted);
  });

  it('mixes the e-mail traps: odd case, padding, null and empty', () => {
    const emails = sample.map((response) => response.email);
    expect(emails).toContain(null);
    expect(emails).toContain('');
    expect(emails.some((email) => email !== null && email !== email.toLowerCase())).toBe(true);
    expect(emails.some((email) => email !== null && email !== '' && email !== email.trim())).toBe(true);
    const distinct = new Set(emails.filter((email) => email).map((email) => email?.trim().toLowerCase()));
    expect(distinct.size).toBeLessThan(sample.length / 2);
  });

  it('serves several forms with ordered answers, numeric and string scores, and skipped answers', () => {
    expect(new Set(sample.map((response) => response.form.form_type))).toEqual(
      new Set(['email-satisfaction', 'nps', 'service', 'product-review']),
    );
    const values: unknown[] = [];
    for (const response of sample) {
      const indexes = response.answers.map((answer) => answer.question_index);
      expect(indexes).toEqual([...indexes].sort());
      const sentiment = response.answers[0];
      expect(sentiment?.question_type).toBe('sentiment');
      const score = Number(sentiment?.response_value);
      const [min, max] = response.form.form_type === 'nps' ? [0, 10] : [1, 5];
      expect(score).toBeGreaterThanOrEqual(min);
      expect(score).toBeLessThanOrEqual(max);
      values.push(sentiment?.response_value);
    }
    expect(values.some((value) => typeof value === 'string')).toBe(true);
    expect(values.some((value) => typeof value === 'number')).toBe(true);
    expect(sample.some((response) => response.answers.length < 4)).toBe(true);
    expect(sample.some((response) => response.answers.some((answer) => answer.answer_type === 'email'))).toBe(
      true,
    );
  });

  it('rewords question 1 of a form halfway through the span', () => {
    const middle = NOW_MS - 30 * DAY_MS;
    const questionsOfForm34 = (before: boolean) =>
      new Set(
        sample
          .filter((response) => response.form.id === 34 && epochOf(response) < middle === before)
          .map((response) => response.answers[0]?.question),
      );
    expect(questionsOfForm34(true)).toEqual(new Set(['What do you think of this email?']));
    expect(questionsOfForm34(false)).toEqual(new Set(['How would you rate this e-mail?']));
  });

  it('fills mailings, merge tags and occasionally leaves the group out', () => {
    expect(sample.some((response) => response.group === null)).toBe(true);
    expect(sample.some((response) => Object.keys(response.merge_tags).length === 0)).toBe(true);
    expect(
      sample.some((response) => 'first_name' in response.merge_tags && 'segment' in response.merge_tags),
    ).toBe(true);
    expect(new Set(sample.map((response) => response.mailing.id)).size).toBeGreaterThan(3);
  });
});
