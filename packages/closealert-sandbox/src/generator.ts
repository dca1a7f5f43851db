import {
  DEVICES,
  FIRST_NAMES,
  FORMS,
  FREE_TEXTS,
  LAST_NAMES,
  MAIL_DOMAINS,
  MAILINGS,
  NEGATIVE_COMMENTS,
  POSITIVE_COMMENTS,
  SEGMENTS,
  type FormDefinition,
} from './catalog.js';
import { createRandom, type Random } from '@tributary/sandbox-kit';
import type { TimeZone } from './time-zone.js';
import type { SandboxAnswer, SandboxFormResponse } from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const MIN_CUSTOMERS = 20;

export interface GeneratorSettings {
  seed: number;
  nowMs: number;
  spanDays: number;
  projectKey: string;
  zone: TimeZone;
  /** Sizes the customer pool (about a third of it), so that customers answer several times. */
  expectedResponses: number;
}

interface Customer {
  firstName: string;
  email: string;
  segment: string;
  age: number | undefined;
}

/**
 * Deterministic source of realistic CloseAlert responses: the same settings yield the same data,
 * including the traps a connector must survive (e-mails in odd case or padded, missing e-mails,
 * numeric strings as scores, skipped answers, a question reworded halfway through the span).
 */
export class ResponseGenerator {
  private readonly random: Random;
  private readonly customers: Customer[];
  private readonly spanStartMs: number;
  private readonly rewordAfterMs: number;
  private readonly formWeightTotal = FORMS.reduce((sum, form) => sum + form.weight, 0);

  constructor(private readonly settings: GeneratorSettings) {
    this.random = createRandom(settings.seed);
    this.spanStartMs = settings.nowMs - settings.spanDays * DAY_MS;
    this.rewordAfterMs = settings.nowMs - (settings.spanDays * DAY_MS) / 2;
    const customerCount = Math.max(MIN_CUSTOMERS, Math.ceil(settings.expectedResponses / 3));
    this.customers = Array.from({ length: customerCount }, (_, index) => this.createCustomer(index));
  }

  /**
   * `count` creation instants over the span, whole seconds, ascending. About one event in twenty is a
   * burst of 5-20 responses in the same second, so that a page boundary often splits one second.
   */
  historyTimes(count: number): Float64Array {
    const firstSecond = Math.ceil(this.spanStartMs / 1000);
    const lastSecond = Math.floor(this.settings.nowMs / 1000);
    const times = new Float64Array(count);
    let filled = 0;
    while (filled < count) {
      const second = this.random.int(firstSecond, Math.max(firstSecond, lastSecond));
      const burst = this.random.chance(0.05) ? this.random.int(5, 20) : 1;
      for (let i = 0; i < burst && filled < count; i++) times[filled++] = second * 1000;
    }
    return times.sort();
  }

  create(id: number, createdAtMs: number): SandboxFormResponse {
    const random = this.random;
    const customer = random.pick(this.customers);
    const form = this.pickForm();
    const mailing = random.pick(MAILINGS);
    const device = random.pick(DEVICES);
    const score = this.pickScore(form);
    return {
      id,
      created_at: this.settings.zone.format(createdAtMs),
      email: this.renderEmail(customer.email),
      mail_url: `https://mail.${this.settings.projectKey}/view/${mailing.id}/${this.hex(12)}`,
      user_agent: device.userAgent,
      device_type: device.deviceType,
      operating_system: device.operatingSystem,
      followed_up: random.chance(this.isNegative(form, score) ? 0.6 : 0.1),
      merge_tags: this.mergeTags(customer),
      form: { id: form.id, form_type: form.formType, name: form.name },
      mailing: { id: mailing.id, name: mailing.name },
      group: random.chance(0.03) ? null : { id: mailing.group.id, name: mailing.group.name },
      answers: this.answers(form, score, customer, createdAtMs),
    };
  }

  private createCustomer(index: number): Customer {
    const random = this.random;
    const firstName = random.pick(FIRST_NAMES);
    const lastName = random.pick(LAST_NAMES);
    const local = `${asciiLocalPart(firstName)}.${asciiLocalPart(lastName)}${index + 1}`;
    return {
      firstName,
      email: `${local}@${random.pick(MAIL_DOMAINS)}`,
      segment: random.pick(SEGMENTS),
      age: random.chance(0.7) ? random.int(18, 80) : undefined,
    };
  }

  private pickForm(): FormDefinition {
    let ticket = this.random.next() * this.formWeightTotal;
    for (const form of FORMS) {
      ticket -= form.weight;
      if (ticket < 0) return form;
    }
    return FORMS[FORMS.length - 1] as FormDefinition;
  }

  private pickScore(form: FormDefinition): number {
    // Skewed towards high scores, like real satisfaction data.
    const skewed = Math.sqrt(this.random.next());
    return (
      form.scoreMin +
      Math.min(form.scoreMax - form.scoreMin, Math.floor(skewed * (form.scoreMax - form.scoreMin + 1)))
    );
  }

  private isNegative(form: FormDefinition, score: number): boolean {
    return form.formType === 'nps' ? score <= 6 : score <= 2;
  }

  private renderEmail(email: string): string | null {
    const roll = this.random.next();
    if (roll < 0.03) return null;
    if (roll < 0.05) return '';
    if (roll < 0.13) return email.toUpperCase();
    if (roll < 0.18) return `  ${email} `;
    return email;
  }

  private mergeTags(customer: Customer): Record<string, unknown> {
    if (this.random.chance(0.1)) return {};
    const tags: Record<string, unknown> = { first_name: customer.firstName, segment: customer.segment };
    if (customer.age !== undefined) tags.age = this.random.chance(0.1) ? String(customer.age) : customer.age;
    return tags;
  }

  private answers(
    form: FormDefinition,
    score: number,
    customer: Customer,
    createdAtMs: number,
  ): SandboxAnswer[] {
    const random = this.random;
    const sentimentQuestion =
      form.rewordedSentimentQuestion !== undefined && createdAtMs >= this.rewordAfterMs
        ? form.rewordedSentimentQuestion
        : form.sentimentQuestion;
    const answers: SandboxAnswer[] = [
      {
        question: sentimentQuestion,
        question_type: 'sentiment',
        answer_type: null,
        question_index: '1',
        response_value: random.chance(0.25) ? String(score) : score,
      },
    ];
    if (random.chance(0.7)) {
      const comments = this.isNegative(form, score) ? NEGATIVE_COMMENTS : POSITIVE_COMMENTS;
      answers.push({
        question: form.commentQuestion,
        question_type: 'comment',
        answer_type: null,
        question_index: '2',
        response_value: random.pick(comments),
      });
    }
    if (random.chance(0.5)) {
      answers.push({
        question: form.emailQuestion,
        question_type: 'form',
        answer_type: 'email',
        question_index: '3.1',
        response_value: customer.email,
      });
    }
    if (random.chance(0.4)) {
      answers.push({
        question: form.textQuestion,
        question_type: 'form',
        answer_type: 'text',
        question_index: '3.2',
        response_value: random.pick(FREE_TEXTS),
      });
    }
    return answers;
  }

  private hex(length: number): string {
    let text = '';
    for (let i = 0; i < length; i++) text += this.random.int(0, 15).toString(16);
    return text;
  }
}

function asciiLocalPart(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}
