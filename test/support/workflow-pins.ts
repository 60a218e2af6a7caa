// Every third-party action is pinned by full commit SHA, with its version in a comment:
// a tag can be moved to other code, a commit SHA cannot. Comments are lost by the YAML
// parser, so this reads the text.

/** The project's own action: users pin it themselves (it has no SHA of its own to name here). */
const ownAction = 'statefulset-canary/statefulset-canary@';

/** Problems with the `uses:` lines of a workflow text, as `line N: why`. */
export function unpinnedUses(text: string): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, index) => {
    const match = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
    const ref = match?.[1];
    if (ref === undefined || ref.startsWith('./')) return;
    const rest = match?.[2] ?? '';
    const at = `line ${index + 1}: ${ref}`;
    if (ref.startsWith(ownAction)) {
      if (!/#.*\bpin\b/.test(rest)) problems.push(`${at} says nothing about pinning it`);
      return;
    }
    if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(ref))
      problems.push(`${at} is not pinned by a full commit SHA`);
    else if (!/^\s+#\s*v\d+\.\d+\.\d+\b/.test(rest)) problems.push(`${at} has no "# vX.Y.Z" comment`);
  });
  return problems;
}
