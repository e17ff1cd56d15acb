import { HOSTILE_NAME } from './__fixtures__/rows';
import { escapeHtml, serializeJsonForHtml } from './escape';

describe('escapeHtml', () => {
  it('escapes a script-running tag', () => {
    expect(escapeHtml(HOSTILE_NAME)).toBe('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('escapes all five special characters', () => {
    expect(escapeHtml(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&#39;f');
  });

  it('escapes an ampersand only once', () => {
    expect(escapeHtml('&lt;')).toBe('&amp;lt;');
  });

  it('keeps plain text unchanged', () => {
    expect(escapeHtml('compressionRatio=0.875 ü')).toBe('compressionRatio=0.875 ü');
  });
});

describe('serializeJsonForHtml', () => {
  const value = { name: `</script><script>alert(1)</script>${HOSTILE_NAME}`, comment: '<!-- x -->', amp: 'a&b', separators: 'a\u2028b\u2029c' };

  it('leaves no character that could end the script element', () => {
    const text = serializeJsonForHtml(value);

    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(text).toContain('\\u003c/script\\u003e');
  });

  it('parses back to the original value', () => {
    expect(JSON.parse(serializeJsonForHtml(value))).toEqual(value);
  });
});
