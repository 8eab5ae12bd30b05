/**
 * Reading the portable column conventions (docs/architecture.md, Storage): lists are JSON text.
 * A list column that does not hold a JSON array of strings reads as the strings it does hold
 * (none for anything else), never as an exception in the middle of a request.
 */
export function stringList(text: string | null): string[] {
  if (text === null) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}
