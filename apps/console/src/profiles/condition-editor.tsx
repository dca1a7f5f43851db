import { useId, useState } from 'react';
import { formById, formLabel, questionLabel, type FeedbackForm } from './forms';
import {
  addChild,
  LEAF_LABELS,
  newGroup,
  newLeaf,
  removeNode,
  SCORE_OPS,
  updateNode,
  type GroupMode,
  type GroupNode,
  type LeafDraft,
  type LeafNode,
  type LeafType,
  type Problem,
  type ScoreOp,
} from './model';

// The condition tree as nested fieldsets: each group says how its conditions combine, each
// condition is a small form of its own. Everything is a native control, so it works by keyboard.

const MODE_LABELS: Record<GroupMode, string> = {
  all: 'All of these',
  any: 'Any of these',
  none: 'None of these',
};

/** The API nests at most 8 levels; the root is one. */
const MAX_DEPTH = 8;

interface EditorProps {
  root: GroupNode;
  forms: readonly FeedbackForm[];
  problems: readonly Problem[];
  onChange(root: GroupNode): void;
}

export function ConditionEditor({ root, forms, problems, onChange }: EditorProps) {
  return <GroupEditor node={root} root={root} depth={1} forms={forms} problems={problems} onChange={onChange} />;
}

function GroupEditor({ node, root, depth, forms, problems, onChange }: EditorProps & { node: GroupNode; depth: number }) {
  const [adding, setAdding] = useState<LeafType>('form');
  // A select's name is its label's words alone, not also the option it shows.
  const uid = useId();
  const problem = problems.find((p) => p.id === node.id);
  const problemId = `problem-${node.id}`;
  const isRoot = node.id === root.id;
  const legend = isRoot ? 'Conditions' : 'Group';
  return (
    <fieldset className="condition-group" aria-describedby={problem ? problemId : undefined}>
      <legend>{legend}</legend>
      <div className="row">
        <label>
          <span>Members match</span>
          <select
            value={node.mode}
            onChange={(e) => onChange(updateNode(root, node.id, (n) => ({ ...(n as GroupNode), mode: e.target.value as GroupMode })))}
          >
            {(Object.keys(MODE_LABELS) as GroupMode[]).map((mode) => (
              <option key={mode} value={mode}>
                {MODE_LABELS[mode]}
              </option>
            ))}
          </select>
        </label>
        {isRoot ? null : (
          <button type="button" className="secondary" onClick={() => onChange(removeNode(root, node.id))}>
            Remove group
          </button>
        )}
      </div>
      {problem ? (
        <p id={problemId} className="field-problem">
          {problem.message}
        </p>
      ) : null}
      {node.children.map((child) =>
        child.kind === 'group' ? (
          <GroupEditor key={child.id} node={child} root={root} depth={depth + 1} forms={forms} problems={problems} onChange={onChange} />
        ) : (
          <LeafEditor key={child.id} node={child} root={root} forms={forms} problems={problems} onChange={onChange} />
        ),
      )}
      <div className="row">
        <label>
          <span id={`${uid}-1`}>New condition</span>
          <select aria-labelledby={`${uid}-1`} value={adding} onChange={(e) => setAdding(e.target.value as LeafType)}>
            {(Object.keys(LEAF_LABELS) as LeafType[]).map((type) => (
              <option key={type} value={type}>
                {LEAF_LABELS[type]}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => onChange(addChild(root, node.id, newLeaf(adding)))}>
          Add condition
        </button>
        {depth < MAX_DEPTH ? (
          <button type="button" className="secondary" onClick={() => onChange(addChild(root, node.id, newGroup('any')))}>
            Add group
          </button>
        ) : null}
      </div>
    </fieldset>
  );
}

function LeafEditor({ node, root, forms, problems, onChange }: EditorProps & { node: LeafNode }) {
  const problem = problems.find((p) => p.id === node.id);
  const problemId = `problem-${node.id}`;
  const set = (draft: LeafDraft) => onChange(updateNode(root, node.id, (n) => ({ ...(n as LeafNode), draft })));
  const invalid = problem ? { 'aria-invalid': true as const, 'aria-describedby': problemId } : {};
  return (
    <fieldset className="condition">
      <legend>{LEAF_LABELS[node.draft.type]}</legend>
      <div className="row">
        <LeafFields draft={node.draft} forms={forms} set={set} invalid={invalid} />
        <button
          type="button"
          className="secondary"
          aria-label={`Remove the ${LEAF_LABELS[node.draft.type].toLowerCase()} condition`}
          onClick={() => onChange(removeNode(root, node.id))}
        >
          Remove
        </button>
      </div>
      {problem ? (
        <p id={problemId} className="field-problem">
          {problem.message}
        </p>
      ) : null}
    </fieldset>
  );
}

type Invalid = { 'aria-invalid'?: true; 'aria-describedby'?: string };

function LeafFields({
  draft,
  forms,
  set,
  invalid,
}: {
  draft: LeafDraft;
  forms: readonly FeedbackForm[];
  set(draft: LeafDraft): void;
  invalid: Invalid;
}) {
  const listId = useId();
  const uid = useId();
  const manyApps = new Set(forms.map((f) => f.app)).size > 1;
  switch (draft.type) {
    case 'responded':
      return (
        <>
          <label>
            <span id={`${uid}-2`}>Responded</span>
            <select aria-labelledby={`${uid}-2`} value={draft.mode} onChange={(e) => set({ ...draft, mode: e.target.value as 'within' | 'between' })}>
              <option value="within">within the past N days</option>
              <option value="between">between two dates</option>
            </select>
          </label>
          {draft.mode === 'within' ? (
            <label>
              <span>Days</span>
              <input type="number" min={1} max={3650} step={1} inputMode="numeric" value={draft.days} onChange={(e) => set({ ...draft, days: e.target.value })} {...invalid} />
            </label>
          ) : (
            <>
              <label>
                <span>From</span>
                <input type="date" value={draft.from} onChange={(e) => set({ ...draft, from: e.target.value })} {...invalid} />
              </label>
              <label>
                <span>To</span>
                <input type="date" value={draft.to} onChange={(e) => set({ ...draft, to: e.target.value })} {...invalid} />
              </label>
            </>
          )}
        </>
      );
    case 'form':
    case 'mailing':
    case 'group': {
      const what = LEAF_LABELS[draft.type];
      const known = draft.type === 'form' && draft.by === 'id' && forms.length > 0;
      return (
        <>
          <label>
            <span id={`${uid}-3`}>{what} by</span>
            <select aria-labelledby={`${uid}-3`} value={draft.by} onChange={(e) => set({ ...draft, by: e.target.value as 'id' | 'name', value: '' })}>
              <option value="id">id</option>
              <option value="name">name</option>
            </select>
          </label>
          {known ? (
            <label>
              <span id={`${uid}-4`}>{what}</span>
              <select aria-labelledby={`${uid}-4`} value={draft.value} onChange={(e) => set({ ...draft, value: e.target.value })} {...invalid}>
                <option value="">Pick a form…</option>
                {forms.map((f) => (
                  <option key={`${f.app}:${f.id}`} value={String(f.id)}>
                    {formLabel(f, manyApps)}
                  </option>
                ))}
                {draft.value && !formById(forms, draft.value) ? <option value={draft.value}>Form {draft.value}</option> : null}
              </select>
            </label>
          ) : (
            <label>
              <span>{what} {draft.by}</span>
              <input value={draft.value} onChange={(e) => set({ ...draft, value: e.target.value })} {...invalid} />
            </label>
          )}
        </>
      );
    }
    case 'question': {
      const form = formById(forms, draft.formId);
      const pick = draft.by === 'index' && form !== undefined && form.questions.length > 0;
      return (
        <>
          <label>
            <span id={`${uid}-5`}>On form</span>
            <select aria-labelledby={`${uid}-5`} value={draft.formId} onChange={(e) => set({ ...draft, formId: e.target.value })}>
              <option value="">any form</option>
              {forms.map((f) => (
                <option key={`${f.app}:${f.id}`} value={String(f.id)}>
                  {formLabel(f, manyApps)}
                </option>
              ))}
              {draft.formId && !form ? <option value={draft.formId}>Form {draft.formId}</option> : null}
            </select>
          </label>
          <label>
            <span id={`${uid}-6`}>Question by</span>
            <select aria-labelledby={`${uid}-6`} value={draft.by} onChange={(e) => set({ ...draft, by: e.target.value as 'index' | 'key' | 'text', value: '' })}>
              <option value="index">number</option>
              <option value="key">key</option>
              <option value="text">wording</option>
            </select>
          </label>
          {pick ? (
            <label>
              <span id={`${uid}-7`}>Question</span>
              <select aria-labelledby={`${uid}-7`} value={draft.value} onChange={(e) => set({ ...draft, value: e.target.value })} {...invalid}>
                <option value="">Pick a question…</option>
                {form.questions.map((q) => (
                  <option key={q.index} value={q.index}>
                    {questionLabel(q)}
                  </option>
                ))}
                {draft.value && !form.questions.some((q) => q.index === draft.value) ? <option value={draft.value}>Question {draft.value}</option> : null}
              </select>
            </label>
          ) : (
            <label>
              <span>{draft.by === 'index' ? 'Question number' : draft.by === 'key' ? 'Question key' : 'Question wording'}</span>
              <input value={draft.value} onChange={(e) => set({ ...draft, value: e.target.value })} list={draft.by === 'text' ? listId : undefined} {...invalid} />
              {draft.by === 'text' ? (
                <datalist id={listId}>
                  {(form ? [form] : forms).flatMap((f) => f.questions.filter((q) => q.text).map((q) => <option key={`${f.id}:${q.index}`} value={q.text ?? ''} />))}
                </datalist>
              ) : null}
            </label>
          )}
        </>
      );
    }
    case 'score':
      return (
        <>
          <label>
            <span id={`${uid}-8`}>Score</span>
            <select aria-labelledby={`${uid}-8`} value={draft.op} onChange={(e) => set({ ...draft, op: e.target.value as ScoreOp })}>
              {SCORE_OPS.map((o) => (
                <option key={o.op} value={o.op}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
          {draft.op === 'between' ? (
            <>
              <label>
                <span>Lowest score</span>
                <input inputMode="decimal" value={draft.min} onChange={(e) => set({ ...draft, min: e.target.value })} {...invalid} />
              </label>
              <label>
                <span>Highest score</span>
                <input inputMode="decimal" value={draft.max} onChange={(e) => set({ ...draft, max: e.target.value })} {...invalid} />
              </label>
            </>
          ) : draft.op === 'in' ? (
            <label>
              <span>Scores</span>
              <span className="help">separated by commas</span>
              <input value={draft.values} onChange={(e) => set({ ...draft, values: e.target.value })} {...invalid} />
            </label>
          ) : (
            <label>
              <span>Score value</span>
              <input inputMode="decimal" value={draft.value} onChange={(e) => set({ ...draft, value: e.target.value })} {...invalid} />
            </label>
          )}
        </>
      );
    case 'comment':
      return (
        <label>
          <span>Comment contains</span>
          <input value={draft.contains} onChange={(e) => set({ ...draft, contains: e.target.value })} {...invalid} />
        </label>
      );
    case 'backfilled':
      return (
        <label>
          <span id={`${uid}-9`}>Read by the first sync&apos;s backfill</span>
          <select aria-labelledby={`${uid}-9`} value={draft.value ? 'yes' : 'no'} onChange={(e) => set({ ...draft, value: e.target.value === 'yes' })}>
            <option value="no">no (new feedback only)</option>
            <option value="yes">yes (old news)</option>
          </select>
        </label>
      );
  }
}

