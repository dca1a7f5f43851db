import { createRandom, type Random } from '@tributary/sandbox-kit';
import type { SandboxAnswer, SandboxForm, SandboxResponse } from './types.js';

// The fixed world the generator draws from: what forms ask and what people write.

const FORM_TITLES = ['Customer satisfaction', 'Product feedback', 'Onboarding survey', 'Support follow-up', 'Event feedback'];
const COMMENTS = [
  'Great service, thank you!',
  'The delivery took far too long.',
  'Support answered within minutes.',
  'Prices went up, quality did not.',
  'I love the new app.',
  'Checkout kept failing on my phone.',
  '',
];
const WORDS = ['fast', 'friendly', 'slow', 'expensive', 'reliable', 'confusing'];
export const CHOICES = ['Shoes', 'Shirts', 'Bags', 'Gift cards'];
const FIRST = ['anna', 'bram', 'chloe', 'dries', 'emma', 'farid', 'greta', 'hugo', 'ines', 'jonas', 'karin', 'lucas'];
const DOMAINS = ['example.com', 'example.org', 'mail.example.net'];
const PLATFORMS = ['mobile', 'desktop', 'tablet'];
const ID_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomId(random: Random, length: number): string {
  let id = '';
  for (let index = 0; index < length; index++) id += ID_CHARS[random.int(0, ID_CHARS.length - 1)];
  return id;
}

/** A stored response: enough to render it again, identically, whenever it is served. */
export interface StoredResponse {
  seq: number;
  formId: string;
  submittedMs: number;
  token: string;
  email: string;
  /** Fixed values for a test: every score field answers `score`, the long text answers `comment`. */
  score?: number | undefined;
  comment?: string | undefined;
}

/** ISO-8601 UTC to the second, as Typeform serves times. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** Seeded forms and responses; a response is rendered from its sequence number, so memory stays small. */
export class ResponseGenerator {
  private readonly random: Random;
  private readonly customers: readonly string[];

  constructor(private readonly seed: number, customerEmails: readonly string[] | undefined, expectedResponses: number) {
    this.random = createRandom(seed);
    const count = Math.max(20, Math.ceil(expectedResponses / 3));
    this.customers =
      customerEmails && customerEmails.length > 0
        ? customerEmails
        : Array.from({ length: count }, (_, index) => `${this.random.pick(FIRST)}.${index + 1}@${this.random.pick(DOMAINS)}`);
  }

  /** A form with the field types feedback lives in: nps, opinion_scale, rating, texts, e-mail, choice, yes/no, date. */
  createForm(index: number, title?: string): SandboxForm {
    const random = this.random;
    const id = randomId(random, 8);
    const field = (type: string, ref: string, fieldTitle: string) => ({ id: randomId(random, 12), ref, title: fieldTitle, type });
    return {
      id,
      title: title ?? `${FORM_TITLES[index % FORM_TITLES.length]}${index >= FORM_TITLES.length ? ` ${Math.floor(index / FORM_TITLES.length) + 1}` : ''}`,
      fields: [
        field('nps', 'recommend', 'How likely are you to recommend us to a friend?'),
        field(index % 2 === 0 ? 'opinion_scale' : 'rating', 'satisfaction', 'How satisfied are you with your last order?'),
        field('long_text', 'improve', 'What could we do better?'),
        field('short_text', 'one_word', 'Describe us in one word'),
        field('email', 'contact_email', 'Your e-mail address'),
        field('multiple_choice', 'bought', 'What did you buy?'),
        field('yes_no', 'again', 'Would you buy again?'),
        field('date', 'bought_on', 'When did you buy?'),
      ],
    };
  }

  /** The token (and response id) of response `seq`: unique, and stable for a seed. */
  token(seq: number): string {
    return `${seq.toString(36).padStart(6, '0')}${randomId(createRandom(this.seed * 7919 + seq), 26)}`;
  }

  drawEmail(): string {
    return this.random.pick(this.customers);
  }

  pickIndex(length: number): number {
    return this.random.int(0, length - 1);
  }

  /** The response as served; the same entry always renders the same text. */
  render(entry: StoredResponse, form: SandboxForm): SandboxResponse {
    const random = createRandom(this.seed * 104_729 + entry.seq);
    const [nps, scale, long, short, email, choice, yesNo, date] = form.fields as [
      SandboxForm['fields'][number],
      ...SandboxForm['fields'][number][],
    ] & { length: 8 };
    const ref = (f: SandboxForm['fields'][number]) => ({ id: f.id, type: f.type, ref: f.ref });
    const score = entry.score ?? random.int(0, 10);
    const scaleScore = random.int(1, scale!.type === 'rating' ? 5 : 10);
    const answers: SandboxAnswer[] = [
      { field: ref(nps), type: 'number', number: score },
      { field: ref(scale!), type: 'number', number: entry.score ?? scaleScore },
    ];
    const drawn = random.pick(COMMENTS);
    const comment = entry.comment ?? drawn;
    if (comment !== '') answers.push({ field: ref(long!), type: 'text', text: comment });
    if (random.chance(0.5)) answers.push({ field: ref(short!), type: 'text', text: random.pick(WORDS) });
    answers.push({ field: ref(email!), type: 'email', email: entry.email });
    if (random.chance(0.3)) answers.push({ field: ref(choice!), type: 'choices', choices: { labels: [random.pick(CHOICES), random.pick(CHOICES)] } });
    else answers.push({ field: ref(choice!), type: 'choice', choice: { label: random.pick(CHOICES) } });
    answers.push({ field: ref(yesNo!), type: 'boolean', boolean: random.chance(0.7) });
    if (random.chance(0.4)) answers.push({ field: ref(date!), type: 'date', date: formatTime(entry.submittedMs - random.int(1, 60) * 86_400_000).slice(0, 10) });
    return {
      landing_id: entry.token,
      token: entry.token,
      response_id: entry.token,
      response_type: 'completed',
      landed_at: formatTime(entry.submittedMs - random.int(30, 900) * 1000),
      submitted_at: formatTime(entry.submittedMs),
      metadata: {
        user_agent: 'Mozilla/5.0 (sandbox)',
        platform: random.pick(PLATFORMS),
        referer: `https://example.typeform.com/to/${form.id}`,
        network_id: randomId(random, 10),
        browser: 'default',
      },
      hidden: { email: entry.email },
      calculated: { score },
      variables: [{ key: 'score', type: 'number', number: score }],
      answers,
    };
  }
}
