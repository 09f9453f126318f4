// Reading TypeScript sources as text, for the tests that check the code against its docs and its tests
// (test/unit/docs-agree.test.ts, test/unit/error-messages.test.ts).

/**
 * `text` without its `//` and `/* … *\/` comments; string and template literals are kept as they are. A comment
 * that spans lines leaves its line breaks, so line numbers stay those of the file.
 */
export function withoutComments(text: string): string {
  return text.replace(/("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (match: string, literal: string | undefined) => {
    if (literal !== undefined) return literal;
    return match.includes('\n') ? match.replace(/[^\n]/g, '') : ' ';
  });
}
