// The query a scan makes with the CLI's and the action's defaults (the newest 200 builds, PR
// branches, step "v1 Test others", the built-in patterns as regular expressions), as the
// simulator's oracle is asked it.

import { BUILTIN_PATTERNS, type GroundTruthQuery } from '../../src/simulator/index.ts';

export const DEFAULT_QUERY: GroundTruthQuery = {
  maxBuilds: 200,
  branchRegex: '^pull/|^pr/',
  step: 'v1 Test others',
  patterns: [...BUILTIN_PATTERNS],
  regex: true,
};
