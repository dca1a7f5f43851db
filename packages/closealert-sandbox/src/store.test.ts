import { describe, expect, it } from 'vitest';
import { ResponseStore, type NewResponse } from './store.js';
import type { SandboxFormResponse } from './types.js';

const BASE_MS = Date.parse('2024-06-01T00:00:00Z');

function entry(id: number, secondsAfterBase: number, formId = 34): NewResponse {
  const epochMs = BASE_MS + secondsAfterBase * 1000;
  const record: SandboxFormResponse = {
    id,
    created_at: new Date(epochMs).toISOString().slice(0, 19),
    email: `c${id}@example.com`,
    mail_url: 'https://mail.example.com',
    user_agent: 'test',
    device_type: 'desktop',
    operating_system: 'linux',
    followed_up: false,
    merge_tags: {},
    form: { id: formId, form_type: 'nps', name: 'F' },
    mailing: { id: 1, name: 'M' },
    group: null,
    answers: [],
  };
  return { record, epochMs };
}

const idsOf = (texts: string[]) => texts.map((text) => (JSON.parse(text) as SandboxFormResponse).id);

describe('ResponseStore', () => {
  it('keeps (created_at, id) order across appends and late arrivals', () => {
    const store = new ResponseStore();
    store.add([entry(3, 10), entry(1, 5), entry(2, 10)]);
    store.add([entry(4, 20)]);
    store.add([entry(6, 10), entry(5, 0)]);
    expect(store.all().map((response) => response.id)).toEqual([5, 1, 2, 3, 6, 4]);
    expect(store.maxId).toBe(6);
  });

  it('hands out snapshots that later additions do not change', () => {
    const store = new ResponseStore();
    store.add([entry(1, 0)]);
    const before = store.all();
    store.add([entry(2, 1)]);
    store.add([entry(3, -1)]);
    expect(before.map((response) => response.id)).toEqual([1]);
    expect(store.all()).toHaveLength(3);
  });

  it('refuses duplicate and non-positive ids', () => {
    const store = new ResponseStore();
    store.add([entry(1, 0)]);
    expect(() => store.add([entry(1, 5)])).toThrow(/already exists/);
    expect(() => store.add([entry(2, 5), entry(2, 6)])).toThrow(/already exists/);
    expect(() => store.add([entry(0, 5)])).toThrow(/positive integer/);
    expect(store.size).toBe(1);
  });

  it('pages an inclusive window and counts its results', () => {
    const store = new ResponseStore();
    store.add(Array.from({ length: 10 }, (_, index) => entry(index + 1, index)));
    const since = BASE_MS + 2000;
    const until = BASE_MS + 8000;
    expect(store.page(since, until, null, 0, 4)).toEqual({ texts: expect.any(Array), totalResults: 7 });
    expect(idsOf(store.page(since, until, null, 0, 4).texts)).toEqual([3, 4, 5, 6]);
    expect(idsOf(store.page(since, until, null, 1, 4).texts)).toEqual([7, 8, 9]);
    expect(store.page(since, until, null, 2, 4)).toEqual({ texts: [], totalResults: 7 });
    expect(store.page(BASE_MS + 50_000, BASE_MS + 60_000, null, 0, 4)).toEqual({
      texts: [],
      totalResults: 0,
    });
  });

  it('filters on a form within the window', () => {
    const store = new ResponseStore();
    store.add(Array.from({ length: 10 }, (_, index) => entry(index + 1, index, index % 2 === 0 ? 34 : 35)));
    const page = store.page(BASE_MS, BASE_MS + 9000, 35, 1, 2);
    expect(page.totalResults).toBe(5);
    expect(idsOf(page.texts)).toEqual([6, 8]);
  });
});
