// Wording shared by error messages.

/** 'a', 'a or b', 'a, b or c'. */
export function orList(items: readonly (string | number)[]): string {
  const words = items.map(String);
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}
