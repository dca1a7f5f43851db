import { cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { ConditionEditor } from './condition-editor';
import type { FeedbackForm } from './forms';
import { readForms } from './forms';
import { draftMatch, emptyDraft, type Condition, type GroupNode } from './model';

const FORMS: FeedbackForm[] = readForms([
  { app: 'closealert', id: 34, name: 'After delivery', formType: 'nps', questions: [{ index: '1', text: 'How likely are you to recommend us?', type: 'score' }, { index: '2', text: 'Why?', type: 'text' }] },
  { app: 'closealert', id: 35, name: null, questions: [] },
  { id: { not: 'an id' } },
]);

/** The editor with its state, as the builder holds it; `latest` is what would be sent. */
function Harness({ onMatch }: { onMatch(match: Condition | undefined, problems: number): void }) {
  const [root, setRoot] = useState<GroupNode>(emptyDraft().root);
  const { match, problems } = draftMatch(root);
  onMatch(match, problems.length);
  return <ConditionEditor root={root} forms={FORMS} problems={problems} onChange={setRoot} />;
}

function renderEditor() {
  const seen: { match?: Condition; problems: number } = { problems: 0 };
  render(
    <Harness
      onMatch={(match, problems) => {
        seen.match = match;
        seen.problems = problems;
      }}
    />,
  );
  return seen;
}

/** The fieldset of the last condition of a kind (legends name them). */
const lastCondition = (name: string) => screen.getAllByRole('group', { name }).at(-1)!;

describe('the condition editor', () => {
  afterEach(cleanup);

  it("builds the manual's example through the labelled controls alone", async () => {
    const user = userEvent.setup();
    const seen = renderEditor();
    const root = screen.getByRole('group', { name: 'Conditions' });
    // Starts as "responded within the past 10 days".
    expect(seen.match).toEqual({ type: 'responded', withinDays: 10 });

    const add = async (kind: string, group = root) => {
      await user.selectOptions(within(group).getAllByLabelText('New condition').at(-1)!, kind);
      await user.click(within(group).getAllByRole('button', { name: 'Add condition' }).at(-1)!);
    };
    await add('Form');
    expect(seen.problems).toBe(1);
    await user.selectOptions(within(lastCondition('Form')).getByLabelText('Form'), 'After delivery (34)');
    await add('Question');
    const question = lastCondition('Question');
    await user.selectOptions(within(question).getByLabelText('On form'), 'After delivery (34)');
    await user.selectOptions(within(question).getByLabelText('Question'), '1. How likely are you to recommend us?');
    await user.click(within(root).getAllByRole('button', { name: 'Add group' }).at(-1)!);
    const group = screen.getByRole('group', { name: 'Group' });
    await user.selectOptions(within(group).getByLabelText('Members match'), 'Any of these');
    await add('Score', group);
    await user.selectOptions(within(lastCondition('Score')).getByLabelText('Score'), 'is');
    await user.type(within(lastCondition('Score')).getByLabelText('Score value'), '1');
    await add('Score', group);
    await user.selectOptions(within(lastCondition('Score')).getByLabelText('Score'), 'is below');
    await user.type(within(lastCondition('Score')).getByLabelText('Score value'), '3');

    expect(seen.problems).toBe(0);
    expect(seen.match).toEqual({
      all: [
        { type: 'responded', withinDays: 10 },
        { type: 'form', id: 34 },
        { type: 'question', formId: 34, questionIndex: '1' },
        { any: [{ type: 'score', op: '=', value: 1 }, { type: 'score', op: '<', value: 3 }] },
      ],
    });
  });

  it('ties a problem to its field and removes a condition by its named button', async () => {
    const user = userEvent.setup();
    const seen = renderEditor();
    const days = screen.getByLabelText('Days');
    await user.clear(days);
    await user.type(days, '0');
    expect(days.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText(/whole number of days/).id).toBe(days.getAttribute('aria-describedby'));
    expect(seen.match).toBeUndefined();

    await user.selectOptions(screen.getByLabelText('Responded'), 'between two dates');
    await user.type(screen.getByLabelText('From'), '2026-01-01');
    await user.type(screen.getByLabelText('To'), '2026-01-31');
    expect(seen.match).toEqual({ type: 'responded', from: '2026-01-01', to: '2026-01-31' });

    await user.selectOptions(screen.getByLabelText('New condition'), 'Comment contains');
    await user.click(screen.getByRole('button', { name: 'Add condition' }));
    await user.type(screen.getByRole('textbox', { name: 'Comment contains' }), 'late');
    await user.click(screen.getByRole('button', { name: 'Remove the when responded condition' }));
    expect(seen.match).toEqual({ type: 'comment', contains: 'late' });
  });

  it('takes a question by wording or key and a score between two values', async () => {
    const user = userEvent.setup();
    const seen = renderEditor();
    await user.click(screen.getByRole('button', { name: 'Remove the when responded condition' }));
    await user.selectOptions(screen.getByLabelText('New condition'), 'Question');
    await user.click(screen.getByRole('button', { name: 'Add condition' }));
    await user.selectOptions(screen.getByLabelText('Question by'), 'wording');
    await user.type(screen.getByLabelText('Question wording'), 'Why?');
    await user.selectOptions(screen.getByLabelText('New condition'), 'Score');
    await user.click(screen.getByRole('button', { name: 'Add condition' }));
    await user.selectOptions(screen.getByLabelText('Score'), 'is between');
    await user.type(screen.getByLabelText('Lowest score'), '0');
    await user.type(screen.getByLabelText('Highest score'), '6');
    expect(seen.match).toEqual({
      all: [
        { type: 'question', text: 'Why?' },
        { type: 'score', op: 'between', min: 0, max: 6 },
      ],
    });
  });
});
