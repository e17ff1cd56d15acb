const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for HTML and XML element content and for quoted attribute values, so that any
 * string from a results file is shown as text and never parsed as markup.
 *
 * @example
 * escapeHtml('<img src=x onerror=alert(1)>'); // '&lt;img src=x onerror=alert(1)&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character]);
}

/**
 * Serializes a value as JSON that is safe inside an HTML `<script>` element. `<`, `>` and `&`
 * become `\u003c`, `\u003e` and `\u0026`, so no string can close the element or open a
 * comment. U+2028 and U+2029 are escaped too, because older JavaScript parsers reject them in
 * string literals. `JSON.parse` of the element's text returns the original value.
 */
export function serializeJsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
