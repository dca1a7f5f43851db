import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { Pager } from './pager';

describe('Pager', () => {
  it('keeps the cursors of earlier pages so that Previous goes back', async () => {
    const onChange = vi.fn();
    const { rerender } = render(<Pager label="Runs" cursors={[]} next="c2" onChange={onChange} />);
    expect(screen.getByRole('button', { name: 'Previous page' })).toHaveProperty('disabled', true);
    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    expect(onChange).toHaveBeenLastCalledWith(['c2']);
    rerender(<Pager label="Runs" cursors={['c2']} next={null} onChange={onChange} />);
    expect(screen.getByText('Page 2')).toBeDefined();
    expect(screen.getByRole('button', { name: 'Next page' })).toHaveProperty('disabled', true);
    await userEvent.click(screen.getByRole('button', { name: 'Previous page' }));
    expect(onChange).toHaveBeenLastCalledWith([]);
  });

  it('shows nothing for a single page', () => {
    const { container } = render(<Pager label="Runs" cursors={[]} next={null} onChange={() => undefined} />);
    expect(container.innerHTML).toBe('');
  });
});
