// The run's secrets as the log sees them: the pieces to mask and to scrub from what this tool writes
// (summary, outputs, errors). A multi-line secret (a PEM key, a vault value) leaks line by line as
// easily as whole, so each line counts too; pieces under MIN_PIECE characters are left alone, as
// masking them would hide common words all over the log.

const MIN_PIECE = 4

/** Each value and each line of multi-line ones (PEM armour lines skipped), longest first. */
export function secretPieces(values: readonly string[]): string[] {
  const out = new Set<string>()
  for (const v of values) {
    const t = v.trim()
    if (t.length >= MIN_PIECE) out.add(t)
    if (!t.includes('\n')) continue
    for (const l of t.split('\n').map((x) => x.trim())) {
      if (l.length >= MIN_PIECE && !/^-----(BEGIN|END) /.test(l)) out.add(l)
    }
  }
  // Longest first, so a scrub replaces a whole value before any of its lines.
  return [...out].sort((a, b) => b.length - a.length)
}

/** Replaces every secret piece in `text` with ***. */
export function scrub(text: string, pieces: readonly string[]): string {
  let out = text
  for (const p of pieces) if (p) out = out.split(p).join('***')
  return out
}
