// Whether a GitHub environment protects the credentials stored in it. GitHub creates an environment
// without any rule the first time a workflow names it, and such an environment hands its secrets to
// any branch's workflow: a workflow's own check of the ref is a line that branch can edit. What holds
// is the environment's rules, read here from GET /repos/{owner}/{repo}/environments/{name}.

/** What the environment's rules enforce, from the API's answer. */
export interface EnvironmentProtection {
  /** A required_reviewers rule naming at least one reviewer: a person approves each job first. */
  requiredReviewers: boolean
  /** A deployment_branch_policy: only protected or selected branches' jobs may use it. */
  branchPolicy: boolean
}

/** The environment a pull request's preview reads: its jobs run any branch's code, so a reviewer must approve them. */
export const PREVIEW_ENVIRONMENT = 'preview'

/** The environment deploy.yml reads: only main's jobs may, by its deployment branch policy. */
export const PRODUCTION_ENVIRONMENT = 'production'

/** Reads the two rules from the API's JSON; anything missing or malformed counts as no rule. */
export function parseProtection(body: unknown): EnvironmentProtection {
  const env = (typeof body === 'object' && body !== null ? body : {}) as { protection_rules?: unknown; deployment_branch_policy?: unknown }
  const rules = Array.isArray(env.protection_rules) ? (env.protection_rules as { type?: unknown; reviewers?: unknown }[]) : []
  return {
    requiredReviewers: rules.some((r) => r?.type === 'required_reviewers' && Array.isArray(r.reviewers) && r.reviewers.length > 0),
    branchPolicy: typeof env.deployment_branch_policy === 'object' && env.deployment_branch_policy !== null,
  }
}

/**
 * What the environment lacks for credentials to be safe in it (e.g. "no required reviewers"), or
 * undefined when its rules protect them: `preview` needs required reviewers (its jobs run pull
 * requests' code), `production` a deployment branch policy (only main's deploys read it), any other
 * environment at least one of the two.
 */
export function missingProtection(environment: string, p: EnvironmentProtection): string | undefined {
  if (environment === PREVIEW_ENVIRONMENT) return p.requiredReviewers ? undefined : 'no required reviewers'
  if (environment === PRODUCTION_ENVIRONMENT) return p.branchPolicy ? undefined : 'no deployment branch policy'
  return p.branchPolicy || p.requiredReviewers ? undefined : 'neither required reviewers nor a deployment branch policy'
}
