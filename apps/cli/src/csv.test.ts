import { describe, expect, it } from 'vitest';
import { csvField, toCsv } from './csv.js';

describe('csv', () => {
  it('quotes fields with quotes, commas, line breaks and edge spaces, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
  });

  it('neutralizes text a spreadsheet would run as a formula, but keeps numbers', () => {
    expect(csvField('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvField('+1 555')).toBe("'+1 555");
    expect(csvField('-2')).toBe("'-2");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\tcmd')).toBe("'\tcmd");
    expect(csvField(-2)).toBe('-2');
    expect(csvField(4.5)).toBe('4.5');
  });

  it('writes a header and rows separated by CRLF', () => {
    expect(
      toCsv(
        ['email', 'score'],
        [
          ['ann@example.com', 1],
          ['=bob@example.com', null],
        ],
      ),
    ).toBe("email,score\r\nann@example.com,1\r\n'=bob@example.com,\r\n");
  });
});
