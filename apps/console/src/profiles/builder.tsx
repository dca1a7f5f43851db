import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { api, ApiError, unwrap } from '../api/client';
import type { paths } from '../api/schema';
import { DataState, ErrorNote, Loading, Notice } from '../components/feedback';
import { When } from '../components/time';
import { href, Link, navigate } from '../router';
import { allows, useSession } from '../session';
import { useApi } from '../use-api';
import { ConditionEditor } from './condition-editor';
import { readForms, type FeedbackForm } from './forms';
import { draftDefinition, emptyDraft, profileDraft, type ProfileDraft } from './model';

// The builder: the conditions on the left, the live count and a sample on the right. Each change
// asks the preview route again after a pause in typing; useApi drops an answer that a newer
// change has overtaken, so the count on screen is always the one of the conditions on screen.

const PREVIEW_DELAY_MS = 400;
const SAMPLE_SIZE = 10;

export function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

export function ProfileBuilder({ workspace, name }: { workspace: string; name?: string }) {
  const { roleIn } = useSession();
  const existing = useApi(
    () => (name === undefined ? Promise.resolve(undefined) : unwrap(api.GET('/workspaces/{workspace}/profiles/{name}', { params: { path: { workspace, name } } }))),
    ['profile', workspace, name],
  );
  const forms = useApi(
    () => unwrap(api.GET('/workspaces/{workspace}/forms', { params: { path: { workspace } } })).then((page) => readForms(page.items)),
    ['forms', workspace],
  );
  if (!allows(roleIn(workspace), 'marketer'))
    return <Notice tone="warn">Building profiles needs the marketer role in {workspace}. Ask an administrator for it.</Notice>;
  if (name !== undefined && (existing.error || existing.data === undefined))
    return <DataState loaded={existing} what={`profile “${name}”`}>{() => null}</DataState>;
  return (
    <BuilderForm
      key={existing.data?.id ?? 'new'}
      workspace={workspace}
      editing={name}
      initial={existing.data ? profileDraft(existing.data) : emptyDraft()}
      forms={forms.data ?? []}
      formsError={forms.error}
    />
  );
}

function BuilderForm({
  workspace,
  editing,
  initial,
  forms,
  formsError,
}: {
  workspace: string;
  editing?: string;
  initial: ProfileDraft;
  forms: readonly FeedbackForm[];
  formsError: ApiError | undefined;
}) {
  const [draft, setDraft] = useState(initial);
  const uid = useId();
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<ApiError>();
  const { definition, problems } = useMemo(() => draftDefinition(draft), [draft]);
  // The description changes no member: typing it asks the server nothing.
  const previewText = definition ? JSON.stringify({ ...definition, description: '' }) : '';
  const settledText = useDebounced(previewText, PREVIEW_DELAY_MS);
  const settled = useMemo(() => (settledText ? (JSON.parse(settledText) as typeof definition) : undefined), [settledText]);
  const preview = useApi(
    () =>
      settled
        ? unwrap(
            api.POST('/workspaces/{workspace}/profiles/preview', {
              params: { path: { workspace }, query: { limit: SAMPLE_SIZE } },
              body: settled,
            }),
          )
        : Promise.resolve(undefined),
    ['preview', workspace, settledText],
  );
  const apps = useMemo(() => [...new Set([...forms.map((f) => f.app).filter(Boolean), ...(draft.app ? [draft.app] : [])])].sort(), [forms, draft.app]);
  const nameProblem = saveError !== undefined && (saveError.code === 'PROFILE_EXISTS' || /\bname\b/i.test(saveError.message));

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!definition) return;
    setSaving(true);
    setSaveError(undefined);
    try {
      const saved = editing
        ? await unwrap(api.PUT('/workspaces/{workspace}/profiles/{name}', { params: { path: { workspace, name: editing } }, body: definition }))
        : await unwrap(api.POST('/workspaces/{workspace}/profiles', { params: { path: { workspace } }, body: { ...definition, name: draft.name.trim() } }));
      navigate(href(['w', workspace, 'profiles', saved.name]));
    } catch (error) {
      setSaveError(error instanceof ApiError ? error : new ApiError(0, 'CONSOLE_BUG', String(error)));
    } finally {
      setSaving(false);
    }
  }

  return (
    <>
      <h1>{editing ? `Edit profile “${editing}”` : 'New profile'}</h1>
      <div className="builder">
        <form className="builder-form" onSubmit={(e) => void save(e)} noValidate>
          {editing ? null : (
            <label>
              <span>Name</span>
              <span className="help">Letters, digits, spaces, _ . - ; unique in the workspace</span>
              <input
                value={draft.name}
                required
                maxLength={100}
                onChange={(e) => setDraft({ ...draft, name: e.target.value })}
                aria-invalid={nameProblem ? true : undefined}
                aria-describedby={nameProblem ? 'save-problem' : undefined}
              />
            </label>
          )}
          <label>
            <span>Description</span>
            <span className="help">What the profile is for (optional)</span>
            <textarea rows={2} maxLength={1000} value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} />
          </label>
          <div className="row">
            <label>
              <span id={`${uid}-1`}>App</span>
              <select aria-labelledby={`${uid}-1`} value={draft.app} onChange={(e) => setDraft({ ...draft, app: e.target.value })}>
                <option value="">Every feedback app</option>
                {apps.map((app) => (
                  <option key={app} value={app}>
                    {app} only
                  </option>
                ))}
              </select>
            </label>
            <label className="inline">
              <input
                type="checkbox"
                checked={draft.over === 'latest-response'}
                onChange={(e) => setDraft({ ...draft, over: e.target.checked ? 'latest-response' : 'any-response' })}
              />
              Latest response only
            </label>
          </div>
          {formsError ? <ErrorNote error={formsError} title="The forms could not be listed; type ids instead." /> : null}
          <ConditionEditor root={draft.root} forms={forms} problems={problems} onChange={(root) => setDraft({ ...draft, root })} />
          <div id="save-problem">{saveError ? <ErrorNote error={saveError} title="Not saved." /> : null}</div>
          <div className="actions">
            <button type="submit" disabled={saving || !definition || (!editing && draft.name.trim() === '')}>
              {saving ? 'Saving…' : editing ? 'Save changes' : 'Save profile'}
            </button>
            <Link className="button secondary" to={href(editing ? ['w', workspace, 'profiles', editing] : ['w', workspace, 'profiles'])}>
              Cancel
            </Link>
          </div>
        </form>
        <LivePreview definitionReady={definition !== undefined} problems={problems.length} preview={preview} settling={previewText !== settledText} />
      </div>
    </>
  );
}

type PreviewAnswer = paths['/workspaces/{workspace}/profiles/preview']['post']['responses'][200]['content']['application/json'];

function LivePreview({
  definitionReady,
  problems,
  preview,
  settling,
}: {
  definitionReady: boolean;
  problems: number;
  preview: { data: PreviewAnswer | undefined; error: ApiError | undefined; loading: boolean };
  settling: boolean;
}) {
  const busy = settling || preview.loading;
  return (
    <section className="preview" aria-labelledby="preview-title">
      <h2 id="preview-title">Members now</h2>
      {!definitionReady ? (
        <Notice tone="warn">
          {problems === 1 ? 'One field needs' : `${problems} fields need`} your attention before the count can be shown.
        </Notice>
      ) : preview.error ? (
        <ErrorNote error={preview.error} title="No count for these conditions." />
      ) : preview.data === undefined ? (
        <Loading what="the count" />
      ) : (
        <>
          <p aria-live="polite" aria-busy={busy}>
            <span className="count" data-testid="live-count">
              {preview.data.count}
            </span>{' '}
            {preview.data.count === 1 ? 'customer matches' : 'customers match'}
            {busy ? <span className="updating"> (updating…)</span> : null}
          </p>
          <p className="help">
            As of <When value={preview.data.evaluatedAt} />. Nothing is saved until you save.
          </p>
          {preview.data.members.length > 0 ? (
            <div className="table-wrap" tabIndex={0} role="region" aria-label="Sample of the members">
              <table>
                <caption className="visually-hidden">A sample of the members</caption>
                <thead>
                  <tr>
                    <th scope="col">E-mail</th>
                    <th scope="col" className="num">
                      Score
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {preview.data.members.map((m) => (
                    <tr key={m.email}>
                      <td>{m.email}</td>
                      <td className="num">{m.score ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          {preview.data.count > preview.data.members.length ? (
            <p className="help">
              The first {preview.data.members.length} of {preview.data.count}.
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}
