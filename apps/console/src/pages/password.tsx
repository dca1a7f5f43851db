import { useState, type FormEvent } from 'react';
import { ErrorNote } from '../components/feedback';
import { useSession } from '../session';

/** At least this long, as the server requires (MIN_PASSWORD_LENGTH); checked here only to say so sooner. */
export const MIN_PASSWORD_LENGTH = 12;

/** What is wrong with a new password before it is sent, in words; undefined when nothing is. */
export function newPasswordProblem(current: string, next: string, repeated: string): string | undefined {
  if (next.length < MIN_PASSWORD_LENGTH) return `The new password needs at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (next !== repeated) return 'The two new passwords differ: type the same one twice.';
  if (next === current) return 'The new password must differ from the one-time password.';
  return undefined;
}

/** "Choose your password": shown before anything else to a user signed in with a one-time password. */
export function PasswordPage() {
  const { me, changePassword, signOut } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeated, setRepeated] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = newPasswordProblem(current, next, repeated);
    if (problem) {
      setError(new Error(problem));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await changePassword(current, next);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <h1>Choose your password</h1>
      <p>
        You signed in as {me?.email} with a one-time password. Choose your own password to go on; the one-time password
        then stops working.
      </p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <label>
          One-time password
          <input type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
        </label>
        <div className="field-block">
          <label htmlFor="new-password">New password</label>
          <input
            id="new-password"
            type="password"
            autoComplete="new-password"
            required
            minLength={MIN_PASSWORD_LENGTH}
            value={next}
            aria-describedby="new-password-help"
            onChange={(e) => setNext(e.target.value)}
          />
          <span className="help" id="new-password-help">
            At least {MIN_PASSWORD_LENGTH} characters; a few unrelated words are easy to remember.
          </span>
        </div>
        <label>
          New password again
          <input type="password" autoComplete="new-password" required value={repeated} onChange={(e) => setRepeated(e.target.value)} />
        </label>
        <ErrorNote error={error} title="Your password was not changed." />
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save my password'}
        </button>
      </form>
      <p>
        <button type="button" className="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </p>
    </main>
  );
}
