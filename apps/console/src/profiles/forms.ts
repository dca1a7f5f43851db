import type { SourceId } from './model';

// GET /workspaces/{ws}/forms answers loosely typed items (each app says what it knows of a form);
// the builder keeps what it can show and skips anything it cannot read.

export interface FeedbackForm {
  app: string;
  id: SourceId;
  name: string | null;
  questions: { index: string; text: string | null }[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readForms(items: readonly unknown[]): FeedbackForm[] {
  const forms: FeedbackForm[] = [];
  for (const item of items) {
    if (!isRecord(item) || (typeof item.id !== 'number' && typeof item.id !== 'string')) continue;
    const questions = Array.isArray(item.questions)
      ? item.questions.flatMap((q) =>
          isRecord(q) && typeof q.index === 'string' ? [{ index: q.index, text: typeof q.text === 'string' ? q.text : null }] : [],
        )
      : [];
    forms.push({
      app: typeof item.app === 'string' ? item.app : '',
      id: item.id,
      name: typeof item.name === 'string' ? item.name : null,
      questions,
    });
  }
  return forms;
}

/** How a form reads in a list: its name with its id, and the app when there are several. */
export function formLabel(form: FeedbackForm, showApp: boolean): string {
  const name = form.name ? `${form.name} (${form.id})` : `Form ${form.id}`;
  return showApp && form.app ? `${name} — ${form.app}` : name;
}

export function questionLabel(q: { index: string; text: string | null }): string {
  return q.text ? `${q.index}. ${q.text}` : `Question ${q.index}`;
}

/** The forms a question condition may pick from: the one named, or all of them. */
export function formById(forms: readonly FeedbackForm[], id: string): FeedbackForm | undefined {
  return forms.find((f) => String(f.id) === id.trim());
}
