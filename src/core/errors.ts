// Bad input, as opposed to a failure: the one error class that means "the user gave a wrong value"
// (one line: what, where, how to fix). The CLI exits 2 for it and 1 for anything else, so a bug
// never passes for the user's mistake.
export class ValidationError extends Error {
  override name = 'ValidationError'
}
