// The one error a bad input gives: it names the input (as action.yml spells it) and the fix.
// A file of its own so every parser (inputs, analysis, and the ones to come) can throw it
// without importing the parser that reads them all.

export class InputError extends Error {
  override readonly name = 'InputError';
  /** The input (kebab-case, as in action.yml) that holds the bad value. */
  readonly input: string;
  constructor(input: string, message: string) {
    super(`Input ${input}: ${message}`);
    this.input = input;
  }
}
