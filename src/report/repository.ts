// Where a pipeline's PR numbers point on the web.

/**
 * The GitHub web URL of a repository given as Buildkite gives it (`https://github.com/o/r.git`,
 * `git@github.com:o/r.git`, `ssh://git@github.com/o/r`), or null when it is not on github.com.
 */
export function githubRepositoryUrl(repository: string | null | undefined): string | null {
  if (!repository) return null;
  const m =
    /^(?:https?:\/\/(?:[^@/]+@)?github\.com\/|git@github\.com:|ssh:\/\/git@github\.com\/)([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(
      repository.trim(),
    );
  return m ? `https://github.com/${m[1]}/${m[2]}` : null;
}
