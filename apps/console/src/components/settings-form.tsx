import type { FormValues, SettingField } from '../schema-fields';

/**
 * The inputs of a connector's settings, generated from its JSON Schema. Secrets are password
 * inputs that the browser neither fills from nor saves to its password store.
 */
export function SettingsFields({
  fields,
  values,
  problems,
  onChange,
  idPrefix,
}: {
  fields: readonly SettingField[];
  values: FormValues;
  problems: Record<string, string>;
  onChange(name: string, value: string | boolean): void;
  idPrefix: string;
}) {
  return (
    <>
      {fields.map((field) => {
        const id = `${idPrefix}-${field.name}`;
        const helpId = `${id}-help`;
        const problemId = `${id}-problem`;
        const described = [field.description ? helpId : '', problems[field.name] ? problemId : ''].filter(Boolean).join(' ') || undefined;
        const help = field.description ? (
          <span className="help" id={helpId}>
            {field.description}
            {field.placeholder !== undefined ? ` (default ${field.placeholder})` : ''}
          </span>
        ) : null;
        const problem = problems[field.name] ? (
          <span className="problem" id={problemId}>
            {problems[field.name]}
          </span>
        ) : null;
        if (field.kind === 'boolean') {
          return (
            <div key={field.name}>
              <label className="inline" htmlFor={id}>
                <input
                  id={id}
                  type="checkbox"
                  checked={values[field.name] === true}
                  aria-describedby={described}
                  onChange={(e) => onChange(field.name, e.target.checked)}
                />
                {field.label}
              </label>
              {help}
            </div>
          );
        }
        const value = typeof values[field.name] === 'string' ? (values[field.name] as string) : '';
        // The label holds the name only; help and problems are its description, so the name stays short.
        return (
          <div key={field.name} className="field-block">
            <label htmlFor={id} className={field.required ? 'required' : undefined}>
              {field.label}
            </label>
            {field.kind === 'choice' ? (
              <select
                id={id}
                value={value}
                required={field.required}
                aria-describedby={described}
                aria-invalid={problems[field.name] ? true : undefined}
                onChange={(e) => onChange(field.name, e.target.value)}
              >
                <option value="">{field.placeholder !== undefined ? `Default (${field.placeholder})` : 'Choose…'}</option>
                {field.choices?.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={id}
                name={field.name}
                type={field.kind === 'secret' ? 'password' : field.kind === 'integer' || field.kind === 'number' ? 'number' : 'text'}
                autoComplete={field.kind === 'secret' ? 'new-password' : 'off'}
                inputMode={field.kind === 'integer' ? 'numeric' : undefined}
                min={field.min}
                max={field.max}
                step={field.kind === 'integer' ? 1 : undefined}
                placeholder={field.placeholder}
                required={field.required}
                aria-describedby={described}
                aria-invalid={problems[field.name] ? true : undefined}
                value={value}
                onChange={(e) => onChange(field.name, e.target.value)}
              />
            )}
            {help}
            {problem}
          </div>
        );
      })}
    </>
  );
}
